using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using GradientDiagnostics.Tests.Telemetry;

namespace GradientDiagnostics.Tests.Reports;

public sealed partial class HeatmapTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-heatmap-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Heatmap_cells_in_chromium_are_the_recorded_mean_magnitudes_at_the_exported_steps_live_and_from_json_lines()
    {
        string path = Path.Combine(_directory, "run.jsonl");
        List<GradientStepResult> results;
        string liveHtml = Path.Combine(_directory, "live.html"), fileHtml = Path.Combine(_directory, "file.html");
        using (GradientAnalyzer analyzer = SyntheticRun.Analyzer(6, o => (o.Telemetry.JsonLinesPath, o.Telemetry.ExportInterval, o.Vanishing.Enabled) = (path, 5, false)))
        {
            results = SyntheticRun.Run(analyzer, 23, gain: 0.2, nanSteps: 17);
            analyzer.CreateReport("heatmap").Save(liveHtml);
        }

        GradientReport.FromJsonLines(path).Save(fileHtml);
        List<GradientStepResult> recorded = [.. GradientRun.Load(path).Steps.Where(s => s.Layers.Count > 0)];

        // Exported: every 5th step and the NaN step (its alert forces the layers into the file).
        Assert.Equal([0L, 5L, 10L, 15L, 17L, 20L], recorded.Select(s => s.Step));
        List<(string Layer, long Step, string Class, string Value)> live = Cells(Chromium.DumpDom(liveHtml));
        List<(string Layer, long Step, string Class, string Value)> offline = Cells(Chromium.DumpDom(fileHtml));
        Assert.Equal(live, offline);
        Assert.Equal(recorded.Count * 6, live.Count);
        foreach ((string layer, long step, string cssClass, string value) in live)
        {
            LayerGradientStatistics expected = recorded.Single(s => s.Step == step).Layers.Single(l => l.Name == layer);
            Assert.Equal(results.Single(r => r.Step == step).Layers[expected.Index].Gradient, expected.Gradient);
            if (!expected.Gradient.IsFinite)
            {
                Assert.Equal(("nf", "NaN/Inf in the gradient"), (cssClass, value));
                continue;
            }

            double shown = double.Parse(value["mean |g| = ".Length..], CultureInfo.InvariantCulture);
            Assert.Equal(expected.MeanMagnitude, shown, tolerance: expected.MeanMagnitude * 5e-3);
        }

        (string nanLayer, long nanStep, _, _) = Assert.Single(live, c => c.Class == "nf");
        Assert.Equal(("blocks.0.linear", 17L), (nanLayer, nanStep));
        // The alert step is marked on the time axis: one circle per column with alerts.
        Assert.Equal(recorded.Count(s => s.Alerts.Count > 0), Regex.Matches(Svg(Chromium.DumpDom(liveHtml), "heatmap"), "<circle[ >]").Count);
    }

    [Fact]
    public void A_long_run_merges_columns_into_geometric_means_of_their_exported_steps_and_keeps_clipping_loss_scale_and_alerts()
    {
        var layers = new LayerDescriptor[] { new("a"), new("b") };
        var history = new GradientRunHistory(layers, new ReportOptions { HeatmapColumns = 16 }, clipThreshold: 1, layersInterval: 10);
        var fed = new List<GradientStepResult>();
        for (long s = 0; s < 1000; s++)
        {
            GradientAlert[] alerts = s == 555 ? [new GradientAlert(GradientAlertKind.Exploding, GradientAlertSeverity.Critical, s, "b", "m", 1, 2, "x")] : [];
            GradientStepResult result = Step(s, [Math.Pow(10, -3 - (s % 7)), s == 900 ? double.NaN : 0.5 + (s / 1000.0)], alerts,
                clipped: s is >= 300 and < 310, lossScale: s < 700 ? 65536 : 32768);
            fed.Add(result);
            history.Add(result);
        }

        LayerHeatmapSnapshot map = history.Snapshot().Heatmap;

        Assert.InRange(map.Columns.Count, 8, 16);
        Assert.Equal(1000, map.Columns.Sum(c => c.Steps));
        Assert.Equal(101, map.Columns.Sum(c => c.ExportedSteps)); // 100 interval steps and the alert step 555
        Assert.Equal(10, map.Columns.Sum(c => c.ClippedSteps));
        Assert.Equal(1, map.Columns.Sum(c => c.LossScaleChanges));
        Assert.Equal((32768.0, 65536.0), (map.Columns.Min(c => c.MinLossScale), map.Columns.Max(c => c.MaxLossScale)));
        Assert.Equal(1, map.Columns.Sum(c => c.CriticalAlertCount));
        Assert.Equal(1, map.Cells.Sum(c => c[1].NonFiniteCount));
        for (int c = 0; c < map.Columns.Count; c++)
        {
            HeatmapColumn column = map.Columns[c];
            List<GradientStepResult> exported = [.. fed.Where(r => r.Step >= column.FirstExportedStep && r.Step <= column.LastExportedStep && (r.Step % 10 == 0 || r.Alerts.Count > 0))];
            Assert.Equal(column.ExportedSteps, exported.Count);
            Assert.Equal(exported.Average(r => Math.Log10(r.Layers[0].MeanMagnitude)), map.Cells[c][0].MeanLog, 12);
            Assert.Equal(exported.Max(r => Math.Log10(r.Layers[0].MeanMagnitude)), map.Cells[c][0].MaxLog, 12);
        }

        string html = new GradientReport(history.Snapshot(), "long").ToHtml();
        Assert.InRange(map.Columns.Count(c => c.ClippedSteps > 0), 1, 2);
        Assert.Equal(map.Columns.Count(c => c.ClippedSteps > 0), ClipMarks().Matches(html).Count);
        Assert.Single(ScaleChanges().Matches(html));
    }

    [Fact]
    public void Loss_scale_clipping_and_origin_round_trip_through_json_lines_into_an_equal_report()
    {
        string path = Path.Combine(_directory, "scaled.jsonl");
        var layers = new LayerDescriptor[] { new("a"), new("b") };
        var history = new GradientRunHistory(layers, new ReportOptions { HeatmapColumns = 16 }, clipThreshold: 1, layersInterval: 4);
        var fed = new List<GradientStepResult>();
        using (var writer = new JsonLinesRunWriter(path, layers, exportInterval: 4, clipThreshold: 1, "path"))
        {
            for (long s = 0; s < 200; s++)
            {
                GradientAlert[] alerts = s == 77
                    ? [new GradientAlert(GradientAlertKind.NonFinite, GradientAlertSeverity.Critical, s, "b", "m", double.NaN, 0, "x") { Origin = "b.norm" }]
                    : [];
                GradientStepResult result = Step(s, [1e-3 * (1 + (s % 5)), s == 77 ? double.NaN : 0.1], alerts, clipped: s % 9 == 0, lossScale: s < 120 ? 65536 : 8192);
                fed.Add(result);
                history.Add(result);
                writer.OnStep(result, 0);
            }
        }

        GradientRun run = GradientRun.Load(path);
        Assert.Equal(fed.Select(r => (r.LossScale, r.ClippingActed)), run.Steps.Select(r => (r.LossScale, r.ClippingActed)));
        Assert.Equal("b.norm", run.Steps[77].Alerts.Single().Origin);
        Assert.Contains("\"lossScale\":65536", File.ReadLines(path).ElementAt(1), StringComparison.Ordinal);

        string live = new GradientReport(history.Snapshot(), "scaled.jsonl").ToHtml();
        string offline = GradientReport.FromJsonLines(path, new ReportOptions { HeatmapColumns = 16 }).ToHtml();
        Assert.Equal(GeneratedAt().Replace(live, string.Empty), GeneratedAt().Replace(offline, string.Empty));
        Assert.Single(ScaleChanges().Matches(live));
        Assert.Contains("loss scale 8.19e+03", live, StringComparison.Ordinal);
        string summary = Regex.Match(live, "<p>[^<]*</p>").Value;
        Assert.Contains("loss scale 8.19e+03 to 6.55e+04", summary, StringComparison.Ordinal);
        Assert.EndsWith("(1 change).</p>", summary, StringComparison.Ordinal);
        Assert.Contains("<td>b</td><td>b.norm</td>", live, StringComparison.Ordinal);
    }

    internal static GradientStepResult Step(long step, double[] means, GradientAlert[] alerts, bool clipped = false, double lossScale = 1) => new()
    {
        Step = step,
        GlobalNorm = 1,
        ClippingActed = clipped,
        LossScale = lossScale,
        Alerts = alerts,
        Layers = [.. means.Select((m, i) => new LayerGradientStatistics
        {
            Index = i,
            Name = i == 0 ? "a" : "b",
            Gradient = TensorStatistics.Compute(double.IsNaN(m) ? new float[] { float.NaN, 1f } : new float[] { (float)m, (float)m }),
        })],
    };

    private static List<(string Layer, long Step, string Class, string Value)> Cells(string dom)
    {
        Match group = Regex.Match(Svg(dom, "heatmap"), "<g id=\"heatmap-cells\".*?</g>", RegexOptions.Singleline);
        Assert.True(group.Success, "no heatmap cells in the rendered DOM");
        return [.. CellPattern().Matches(group.Value).Select(m => (WebUtility.HtmlDecode(m.Groups["layer"].Value),
            long.Parse(m.Groups["step"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture), m.Groups["class"].Value, WebUtility.HtmlDecode(m.Groups["value"].Value)))];
    }

    private static string Svg(string dom, string id)
    {
        Match match = Regex.Match(dom, $"<svg[^>]*id=\"{id}\".*?</svg>", RegexOptions.Singleline);
        Assert.True(match.Success, $"no <svg id=\"{id}\"> in the rendered DOM");
        return match.Value;
    }

    [GeneratedRegex("<rect(?: class=\"(?<class>[a-z]+)\")?[^>]*><title>(?<layer>[^<,]+), step (?<step>[0-9,]+): (?<value>[^<]+)</title></rect>")]
    private static partial Regex CellPattern();

    [GeneratedRegex(" at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ")]
    private static partial Regex GeneratedAt();

    [GeneratedRegex("<rect class=\"clip\"")]
    private static partial Regex ClipMarks();

    [GeneratedRegex("<path class=\"scale-change\"")]
    private static partial Regex ScaleChanges();
}
