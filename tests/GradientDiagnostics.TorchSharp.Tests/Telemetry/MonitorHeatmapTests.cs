using System.Globalization;
using System.Text.RegularExpressions;
using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Telemetry;

public sealed partial class MonitorHeatmapTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-monitor-heatmap-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Heatmap_of_a_clipped_sigmoid_mlp_holds_its_recorded_mean_magnitudes_and_clipping_live_and_from_json_lines()
    {
        manual_seed(5);
        string path = Path.Combine(_directory, "run.jsonl");
        using var model = Mlp.Create(depth: 8, 32, Activation.Sigmoid, Init.TorchSharpDefault);
        List<GradientStepResult> results;
        string live;
        using (var monitor = model.AttachGradientMonitor(o =>
        {
            // A threshold between the run's smallest and largest global norms, so clipping acts at some steps only.
            o.Clipping = GradientClipping.ByGlobalNorm(1.0);
            (o.Telemetry.JsonLinesPath, o.Telemetry.ExportInterval) = (path, 3);
        }))
        {
            results = Training.Run(model, monitor, steps: 14, 32, learningRate: 0.5);
            live = monitor.CreateReport("run.jsonl").ToHtml();
        }

        string offline = GradientReport.FromJsonLines(path).ToHtml();
        Assert.Equal(GeneratedAt().Replace(live, string.Empty), GeneratedAt().Replace(offline, string.Empty));

        List<GradientStepResult> exported = [.. results.Where(r => r.Step % 3 == 0 || r.Alerts.Count > 0)];
        var cells = CellPattern().Matches(live).Select(m => (Layer: m.Groups["layer"].Value, Step: long.Parse(m.Groups["step"].Value, CultureInfo.InvariantCulture),
            Mean: double.Parse(m.Groups["mean"].Value, CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(exported.Count * results[0].Layers.Count, cells.Count);
        foreach ((string layer, long step, double mean) in cells)
        {
            double recorded = results[(int)step].Layers.Single(l => l.Name == layer).MeanMagnitude;
            Assert.Equal(recorded, mean, tolerance: recorded * 5e-3);
        }

        // One clipping mark per column (an exported step and the steps since the previous one) in which clipping acted;
        // the steps after the last exported one join the last column.
        Assert.True(results.Any(r => r.ClippingActed) && results.Any(r => !r.ClippingActed), string.Join(", ", results.Select(r => $"{r.GlobalNorm:G3}{(r.ClippingActed ? "*" : "")}")));
        Assert.Contains(results, r => !r.ClippingActed);
        long[] ends = [.. exported.Select(r => r.Step).SkipLast(1), results[^1].Step];
        int clippedColumns = ends.Select((end, i) => results.Any(r => r.ClippingActed && r.Step <= end && (i == 0 || r.Step > ends[i - 1]))).Count(c => c);
        Assert.Equal(clippedColumns, ClipMark().Matches(live).Count);
    }

    [GeneratedRegex("<title>(?<layer>[^<,]+), step (?<step>[0-9,]+): mean \\|g\\| = (?<mean>[^<]+)</title></rect>")]
    private static partial Regex CellPattern();

    [GeneratedRegex("<rect class=\"clip\"")]
    private static partial Regex ClipMark();

    [GeneratedRegex(" at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ")]
    private static partial Regex GeneratedAt();
}
