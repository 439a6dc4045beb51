namespace GradientDiagnostics.Samples.Tests;

public sealed class GradientFlowDemoTests : IDisposable
{
    private readonly string _reports = Path.Combine(Path.GetTempPath(), $"gd-demo-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_reports, recursive: true);

    [Fact]
    public void Sigmoid_net_vanishes_and_residual_relu_net_trains_cleanly_with_reports_written()
    {
        var output = new StringWriter();

        int exitCode = GradientFlowDemo.Run(new GradientFlowDemo.Settings { Steps = 25, Depth = 12, Width = 32, ReportDirectory = _reports }, output);

        Assert.Equal(0, exitCode);
        string text = output.ToString();
        Assert.Matches(@"sigmoid, default init: \d+ alerts \([1-9]\d* Vanishing\)", text);
        Assert.Contains("ReLU + He + residual: 0 alerts", text, StringComparison.Ordinal);
        foreach (string report in new[] { "sigmoid.html", "residual.html" })
        {
            string html = File.ReadAllText(Path.Combine(_reports, report));
            Assert.Contains("<svg", html, StringComparison.Ordinal);
        }
    }
}
