using GradientDiagnostics.Testing;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>Any change to the public surface shows up here and must be approved by updating the .approved.txt file.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void Public_api_is_approved() => ApiApproval.Verify(typeof(GradientMonitor).Assembly);
}
