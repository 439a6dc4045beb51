using Microsoft.Extensions.Logging.Testing;

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
        Assert.Matches(@"init: \d+ alerts \([1-9]\d* Vanishing", text);
        Assert.Contains("ReLU + He + residual: 0 alerts", text, StringComparison.Ordinal);
        Assert.Contains("LimitedByActivation: the sigmoid", text, StringComparison.Ordinal);
        Assert.Matches(@"check:\s+Vanishing \(depth gain 0\.\d+", text);
        Assert.Matches(@"again: Healthy \(depth gain (0\.9|1\.0)", text);
        Assert.Contains("mean loss over the last", text, StringComparison.Ordinal);
        foreach (string report in new[] { "sigmoid.html", "residual.html" })
        {
            string html = File.ReadAllText(Path.Combine(_reports, report));
            Assert.Contains("<svg", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Sigmoid_run_raises_and_logs_at_most_one_vanishing_alert_per_layer_and_step()
    {
        var logger = new FakeLogger();

        GradientFlowDemo.RunSummary sick = GradientFlowDemo.TrainSigmoid(
            new GradientFlowDemo.Settings { Steps = 25, Depth = 20, Width = 32, ReportDirectory = _reports }, logger, TextWriter.Null);

        GradientAlert[] vanishing = [.. sick.Raised.Where(a => a.Kind == GradientAlertKind.Vanishing)];
        Assert.NotEmpty(vanishing);
        Assert.All(vanishing.GroupBy(a => (a.Layer, a.Step)), g => Assert.Single(g));
        // The criteria did cross together: one alert carries several (mean |g|, ratio to later layers, depth gain).
        Assert.Contains(vanishing, a => a.Criteria.Count > 1);

        FakeLogRecord[] lines = [.. logger.Collector.GetSnapshot().Where(r => r.Id.Id == GradientLogEvents.Vanishing)];
        Assert.Equal(vanishing.Length, lines.Length);
        Assert.All(lines.GroupBy(r => (r.GetStructuredStateValue("Layer"), r.GetStructuredStateValue("Step"))), g => Assert.Single(g));
    }
}
