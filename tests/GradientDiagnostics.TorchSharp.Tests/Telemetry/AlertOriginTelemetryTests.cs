using System.Text.Json;
using Microsoft.Extensions.Logging.Testing;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Telemetry;

public sealed class AlertOriginTelemetryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-origin-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void The_traced_origin_of_a_NaN_reaches_json_lines_the_report_tensorboard_text_and_the_log_state()
    {
        string path = Path.Combine(_directory, "run.jsonl"), board = Path.Combine(_directory, "tensorboard");
        var logger = new FakeLogger();
        GradientReport live;
        GradientAlert alert;
        using (var model = CreateModel())
        using (var monitor = model.AttachGradientMonitor(
            o =>
            {
                o.NonFinite.TraceOrigin = true;
                (o.Telemetry.JsonLinesPath, o.Telemetry.TensorBoardLogDirectory, o.Telemetry.ExportInterval) = (path, board, 2);
            },
            logger))
        {
            Train(model, monitor, poisoned: false);
            alert = Assert.Single(Train(model, monitor, poisoned: true).Alerts, a => a.Kind == GradientAlertKind.NonFinite);
            Train(model, monitor, poisoned: false); // step 2: the TensorBoard write after the alert
            live = monitor.CreateReport("origin");
        }

        Assert.Equal("logscale", alert.Origin);

        // JSON Lines: the field, and the alert read back with it.
        string line = File.ReadLines(path).Single(l => l.Contains("\"NonFinite\"", StringComparison.Ordinal));
        JsonElement written = JsonDocument.Parse(line).RootElement.GetProperty("alerts").EnumerateArray().Single(a => a.GetProperty("kind").GetString() == "NonFinite");
        Assert.Equal("logscale", written.GetProperty("origin").GetString());
        Assert.Equal("logscale", GradientRun.Load(path).Steps[1].Alerts.Single(a => a.Kind == GradientAlertKind.NonFinite).Origin);

        // The report's alert table, live and from the file; the other alerts' origin cells stay empty.
        string offline = GradientReport.FromJsonLines(path).ToHtml();
        foreach (string html in new[] { live.ToHtml(), offline })
        {
            Assert.Contains("<th>origin</th>", html, StringComparison.Ordinal);
            Assert.Contains($"<td>{System.Net.WebUtility.HtmlEncode(alert.Layer)}</td><td>logscale</td>", html, StringComparison.Ordinal);
        }

        // TensorBoard: the alert's line in the text summary written at the next export step.
        var texts = TensorBoardEventFile.Read(Directory.GetFiles(board).Single()).Skip(1)
            .SelectMany(e => e.Values.Where(v => v.Tag.StartsWith("alerts/text", StringComparison.Ordinal)).Select(v => (e.Step, v.Text))).ToList();
        (long textStep, string? text) = Assert.Single(texts);
        Assert.Equal(2, textStep);
        Assert.Contains("- step 1: **Critical NonFinite** in `", text, StringComparison.Ordinal);
        Assert.Contains(", origin `logscale`: ", text, StringComparison.Ordinal);

        // The log entry's structured state.
        FakeLogRecord record = logger.Collector.GetSnapshot().Single(r => r.Id.Id == GradientLogEvents.NonFinite);
        Assert.Equal("logscale", record.GetStructuredStateValue("Origin"));
    }

    /// <summary>fc0 → ReLU → fc1 → log(x + 8) → head: inputs scaled by 1,000 push some of fc1's outputs below −8, and
    /// the log turns them into NaN (the model of the forward-origin tests).</summary>
    private static nn.Module<Tensor, Tensor> CreateModel()
    {
        manual_seed(21);
        return nn.Sequential(("fc0", nn.Linear(8, 16)), ("act0", nn.ReLU()), ("fc1", nn.Linear(16, 16)), ("logscale", new LogScale()), ("head", nn.Linear(16, 1)));
    }

    private static GradientStepResult Train(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, bool poisoned)
    {
        using var scope = NewDisposeScope();
        model.zero_grad();
        Tensor x = randn(16, 8) * (poisoned ? 1000 : 1);
        Tensor loss = model.call(x).square().mean();
        loss.backward();
        return monitor.Step(loss);
    }

    private sealed class LogScale() : nn.Module<Tensor, Tensor>(nameof(LogScale))
    {
        public override Tensor forward(Tensor input) => (input + 8).log();
    }
}
