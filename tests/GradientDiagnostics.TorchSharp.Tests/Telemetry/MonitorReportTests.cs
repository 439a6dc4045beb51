using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Telemetry;

public sealed class MonitorReportTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-monitor-report-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Report_of_a_12_layer_sigmoid_mlp_shows_the_vanishing_layers_and_its_alerts()
    {
        manual_seed(3);
        using var model = Mlp.Create(depth: 12, 64, Activation.Sigmoid, Init.TorchSharpDefault);
        using var monitor = model.AttachGradientMonitor();

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 6, 64);
        GradientReport report = monitor.CreateReport("sigmoid MLP");
        string html = report.ToHtml();

        Assert.Equal((6L, results.Sum(r => (long)r.Alerts.Count)), (report.StepCount, report.AlertCount));
        Assert.Contains(results.SelectMany(r => r.Alerts), a => a.Kind == GradientAlertKind.Vanishing);
        Assert.Contains("<td>Vanishing</td>", html, StringComparison.Ordinal);
        foreach (string layer in monitor.LayerNames)
        {
            Assert.Contains($"{layer}: mean |g| = ", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void With_a_layer_output_filter_the_report_and_the_alert_print_the_same_depth_factor()
    {
        manual_seed(14);
        string path = Path.Combine(_directory, "filtered.jsonl");
        using var model = Mlp.Create(depth: 20, 64, Activation.Sigmoid, Init.TorchSharpDefault);
        GradientStepResult result;
        GradientReport live;
        using (var monitor = model.AttachGradientMonitor(o =>
        {
            o.CaptureLayerOutputs = true;
            // fc0, fc2, …, fc18: 10 probed of 20 layers, so "over the layers" and "over the probed layers" differ.
            o.LayerOutputFilter = name => name.StartsWith("fc", StringComparison.Ordinal) &&
                int.Parse(System.Text.RegularExpressions.Regex.Match(name, "[0-9]+").Value, System.Globalization.CultureInfo.InvariantCulture) % 2 == 0;
            (o.Vanishing.Persistence, o.Vanishing.PersistenceWindow) = (1, 1);
            o.Telemetry.JsonLinesPath = path;
        }))
        {
            result = Training.Run(model, monitor, steps: 1, 64).Single();
            live = monitor.CreateReport();
        }

        GradientAlert depth = Assert.Single(result.Alerts, a => a.Metric == GradientMetricNames.DepthGainOverDepth);
        Assert.Equal(10, result.ProbedLayerCount);
        Assert.Equal(depth.Value, result.DepthGainOverDepth);
        // Alert messages and the report write numbers the same way (3 significant digits, exponents in lower case).
        string factor = depth.Value.ToString("G3", System.Globalization.CultureInfo.InvariantCulture).ToLowerInvariant();
        Assert.Contains($"to {factor} of its value at the last one", depth.Message, StringComparison.Ordinal);
        Assert.Contains($"that is a factor {factor})", live.ToHtml(), StringComparison.Ordinal);
        Assert.Contains($"that is a factor {factor})", GradientReport.FromJsonLines(path).ToHtml(), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_lines_from_a_monitor_load_back_with_every_step_and_close_on_dispose()
    {
        manual_seed(4);
        string path = Path.Combine(_directory, "run.jsonl");
        List<GradientStepResult> results;
        using (var model = Mlp.Create(depth: 5, 32, Activation.Tanh, Init.Xavier))
        using (var monitor = model.AttachGradientMonitor(o => (o.Telemetry.JsonLinesPath, o.Telemetry.ExportInterval) = (path, 2)))
        {
            results = Training.Run(model, monitor, steps: 5, 32);
        }

        GradientRun run = GradientRun.Load(path);

        Assert.Equal(results.Select(r => (r.Step, r.GlobalNorm, r.Loss)), run.Steps.Select(r => (r.Step, r.GlobalNorm, r.Loss)));
        Assert.Equal(results[4].Layers.Select(l => l.Gradient), run.Steps[4].Layers.Select(l => l.Gradient));
        Assert.Empty(run.Steps[3].Layers);
    }
}
