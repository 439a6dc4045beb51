namespace GradientDiagnostics.Samples.Tests;

public sealed class GradientFlowDemoTests : IDisposable
{
    private readonly string _reports = Path.Combine(Path.GetTempPath(), $"gd-demo-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_reports))
        {
            Directory.Delete(_reports, recursive: true);
        }
    }

    [Fact]
    public void Sigmoid_net_vanishes_residual_relu_net_trains_cleanly_and_the_tanh_net_is_fixed_before_step_1()
    {
        var output = new StringWriter();

        int exitCode = GradientFlowDemo.Run(new GradientFlowDemo.Settings { Steps = 25, Depth = 20, Width = 32, ReportDirectory = _reports }, output);

        Assert.Equal(0, exitCode);
        string text = output.ToString();
        Assert.Matches(@"sigmoid, default init: \d+ alerts \([1-9]\d* Vanishing\)", text);
        Assert.Contains("ReLU + He + residual: 0 alerts", text, StringComparison.Ordinal);
        Assert.Contains("LimitedByActivation: the sigmoid", text, StringComparison.Ordinal);
        Assert.Matches(@"check:\s+Vanishing \(depth gain 0\.\d+", text);
        Assert.Matches(@"check again: Healthy \(depth gain (0\.9|1\.0)\d+", text);
        Assert.Contains("mean loss over the last", text, StringComparison.Ordinal);
        foreach (string report in new[] { "sigmoid.html", "residual.html" })
        {
            string html = File.ReadAllText(Path.Combine(_reports, report));
            Assert.Contains("<svg", html, StringComparison.Ordinal);
        }
    }
}
