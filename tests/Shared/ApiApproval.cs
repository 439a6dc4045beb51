using System.Reflection;
using PublicApiGenerator;
using Xunit;

namespace GradientDiagnostics.Testing;

/// <summary>Compares an assembly's public API with the committed <c>tests/api/&lt;name&gt;.approved.txt</c>.
/// On a difference it writes <c>.received.txt</c> beside it and fails; copy it over the approved file to accept.</summary>
internal static class ApiApproval
{
    public static void Verify(Assembly assembly)
    {
        string name = assembly.GetName().Name!;
        string actual = assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }).ReplaceLineEndings("\n");
        string folder = Path.Combine(RepositoryRoot.Path, "tests", "api");
        string approvedPath = Path.Combine(folder, $"{name}.approved.txt");
        string receivedPath = Path.Combine(folder, $"{name}.received.txt");
        string approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : string.Empty;
        if (actual == approved)
        {
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(folder);
        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"The public API of {name} changed. Review {receivedPath} and, if intended, copy it over {approvedPath}.");
    }
}
