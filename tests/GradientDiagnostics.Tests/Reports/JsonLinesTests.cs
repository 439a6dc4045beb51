using System.Text.Json;
using GradientDiagnostics.Tests.Telemetry;

namespace GradientDiagnostics.Tests.Reports;

public sealed class JsonLinesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-jsonl-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Run_round_trips_through_json_lines_exactly()
    {
        string path = Path.Combine(_directory, "nested", "run.jsonl");
        List<GradientStepResult> written;
        using (GradientAnalyzer analyzer = SyntheticRun.Analyzer(5, o => (o.Telemetry.JsonLinesPath, o.Telemetry.ExportInterval) = (path, 1)))
        {
            written = SyntheticRun.Run(analyzer, 6, gain: 0.05, nanSteps: 4);
        }

        GradientRun run = GradientRun.Load(path);

        Assert.Equal(SyntheticRun.LayerNames(5), run.Layers.Select(l => l.Name));
        Assert.Equal(written.Count, run.Steps.Count);
        Assert.Contains(written, r => r.Alerts.Count > 0 && r.SkipStep);
        foreach ((GradientStepResult expected, GradientStepResult actual) in written.Zip(run.Steps))
        {
            Assert.Equal((expected.Step, expected.GlobalNorm, expected.Loss, expected.SkipStep, expected.DepthGain),
                (actual.Step, actual.GlobalNorm, actual.Loss, actual.SkipStep, actual.DepthGain));
            Assert.Equal(expected.Layers.Select(l => (l.Index, l.Name, l.Gradient, l.OutputGradientNorm)),
                actual.Layers.Select(l => (l.Index, l.Name, l.Gradient, l.OutputGradientNorm)));
            Assert.Equal(expected.Alerts.Select(a => a.ToString()), actual.Alerts.Select(a => a.ToString()));
            Assert.Equal(expected.Alerts.Select(a => (a.Kind, a.Severity, a.Step, a.Layer, a.Metric, a.Value, a.Threshold, a.Message)),
                actual.Alerts.Select(a => (a.Kind, a.Severity, a.Step, a.Layer, a.Metric, a.Value, a.Threshold, a.Message)));
        }
    }

    [Fact]
    public void Steps_between_export_intervals_carry_global_figures_and_alerts_but_no_layers()
    {
        string path = Path.Combine(_directory, "run.jsonl");
        using (GradientAnalyzer analyzer = SyntheticRun.Analyzer(4, o => (o.Telemetry.JsonLinesPath, o.Telemetry.ExportInterval, o.Vanishing.Enabled) = (path, 3, false)))
        {
            SyntheticRun.Run(analyzer, 7, gain: 1, nanSteps: 5);
        }

        GradientRun run = GradientRun.Load(path);

        Assert.Equal([0L, 3L, 5L, 6L], run.Steps.Where(s => s.Layers.Count > 0).Select(s => s.Step));
        Assert.All(run.Steps, s => Assert.True(s.GlobalNorm > 0 || double.IsNaN(s.GlobalNorm)));
        Assert.NotEmpty(run.Steps[5].Alerts);
    }

    [Fact]
    public void Lines_follow_the_documented_schema()
    {
        string path = Path.Combine(_directory, "run.jsonl");
        using (GradientAnalyzer analyzer = SyntheticRun.Analyzer(3, o => (o.Telemetry.JsonLinesPath, o.Vanishing.Enabled) = (path, false)))
        {
            SyntheticRun.Run(analyzer, 2, gain: 1, nanSteps: 1);
        }

        string[] lines = File.ReadAllLines(path);
        Assert.Equal(3, lines.Length);
        using JsonDocument header = JsonDocument.Parse(lines[0]);
        Assert.Equal("run", header.RootElement.GetProperty("type").GetString());
        Assert.Equal(1, header.RootElement.GetProperty("formatVersion").GetInt32());
        Assert.Equal("blocks.2.linear", header.RootElement.GetProperty("layers")[2].GetProperty("name").GetString());
        using JsonDocument step = JsonDocument.Parse(lines[2]);
        JsonElement root = step.RootElement;
        Assert.Equal("step", root.GetProperty("type").GetString());
        Assert.Equal(1, root.GetProperty("step").GetInt64());
        Assert.Equal("NaN", root.GetProperty("globalNorm").GetString());
        Assert.True(root.GetProperty("skipStep").GetBoolean());
        Assert.Equal(1, root.GetProperty("layers")[0].GetProperty("nanCount").GetInt64());
        JsonElement alert = root.GetProperty("alerts")[0];
        Assert.Equal(("NonFinite", "Critical"), (alert.GetProperty("kind").GetString(), alert.GetProperty("severity").GetString()));
        Assert.False(root.TryGetProperty("clipCoefficient", out _));
    }

    [Fact]
    public void Reader_names_the_line_of_a_corrupt_record()
    {
        string path = Path.Combine(_directory, "run.jsonl");
        using (GradientAnalyzer analyzer = SyntheticRun.Analyzer(3, o => o.Telemetry.JsonLinesPath = path))
        {
            SyntheticRun.Run(analyzer, 2, gain: 1);
        }

        File.AppendAllText(path, "{\"type\":\"step\",\"step\":\"not a number\"}\n");

        var ex = Assert.Throws<InvalidDataException>(() => GradientRun.Load(path));
        Assert.Contains("run.jsonl:4", ex.Message, StringComparison.Ordinal);
    }
}
