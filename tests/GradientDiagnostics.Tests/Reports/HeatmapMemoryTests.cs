using System.Runtime.CompilerServices;
using Xunit.Abstractions;

namespace GradientDiagnostics.Tests.Reports;

// Heap measurements count the whole process, so this class runs alone, not beside other test classes.
[CollectionDefinition(nameof(HeatmapMemoryTests), DisableParallelization = true)]
[Collection(nameof(HeatmapMemoryTests))]
public sealed class HeatmapMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const int Layers = 200;
    private const int Steps = 100_000;
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-heatmap-memory-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_200_layer_100000_step_history_stays_within_the_report_bound_and_renders_readably()
    {
        var options = new ReportOptions();
        LayerDescriptor[] layers = [.. Enumerable.Range(0, Layers).Select(i => new LayerDescriptor($"blocks.{i}.linear"))];
        // 16 distinct sets of per-layer statistics, cycled: the values vary over time, the test's own memory does not grow.
        LayerGradientStatistics[][] samples = [.. Enumerable.Range(0, 16).Select(k => Enumerable.Range(0, Layers).Select(l => new LayerGradientStatistics
        {
            Index = l,
            Name = layers[l].Name,
            Gradient = TensorStatistics.Compute(new float[] { (float)(Math.Pow(10, -1 - (l * 0.03)) * (1 + (0.1 * k))), k == 5 && l == 7 ? float.NaN : 1e-3f }),
        }).ToArray())];

        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        var history = new GradientRunHistory(layers, options, clipThreshold: 1, layersInterval: 1);
        var retainedAt = new List<long>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (long s = 0; s < Steps; s++)
        {
            // Every step exported (the worst case: interval 1), an alert every 1,000 steps, clipping now and then and a
            // loss scale halved every 10,000 steps.
            GradientAlert[] alerts = s % 1000 == 0 ? [new GradientAlert(GradientAlertKind.Vanishing, GradientAlertSeverity.Warning, s, layers[0].Name, "m", 1, 2, "x")] : [];
            history.Add(new GradientStepResult
            {
                Step = s,
                GlobalNorm = 1,
                ClippingActed = s % 97 == 0,
                LossScale = Math.Pow(2, 16 - (s / 10_000)),
                Alerts = alerts,
                Layers = samples[(int)(s % 16)],
            });
            if ((s + 1) % 10_000 == 0)
            {
                retainedAt.Add(GC.GetTotalMemory(forceFullCollection: true) - baseline);
            }
        }

        double feedSeconds = clock.Elapsed.TotalSeconds;
        GradientReportSnapshot snapshot = history.Snapshot();
        GC.KeepAlive(history);

        // The bound: the heatmap's cells (layers × HeatmapColumns, plus the column being filled), the global-norm
        // buckets, the kept alerts, and one step's per-layer statistics (the latest, referenced, not copied); with a
        // quarter for list slack and object headers.
        long cells = (long)Layers * (options.HeatmapColumns + 1) * Unsafe.SizeOf<HeatmapCell>();
        long columns = (long)options.HeatmapColumns * Unsafe.SizeOf<HeatmapColumn>();
        long buckets = (long)options.HistoryPoints * Unsafe.SizeOf<NormBucket>();
        long alertBytes = options.MaxAlerts * 200L;
        long bound = (cells + columns + buckets + alertBytes) * 5 / 4;
        output.WriteLine($"{Steps:N0} steps x {Layers} layers fed in {feedSeconds:F1} s; retained every 10,000 steps: {string.Join(", ", retainedAt.Select(b => b.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))} bytes; bound {bound:N0} bytes");
        Assert.All(retainedAt, b => Assert.InRange(b, 0, bound));
        // Flat: the columns fill and merge in cycles, and a later cycle holds no more than an earlier one.
        Assert.InRange(retainedAt.Skip(5).Max() - retainedAt.Take(5).Max(), long.MinValue, 64 * 1024);

        LayerHeatmapSnapshot map = snapshot.Heatmap;
        Assert.InRange(map.Columns.Count, options.HeatmapColumns / 2, options.HeatmapColumns);
        Assert.Equal(Steps, map.Columns.Sum(c => (long)c.ExportedSteps));
        Assert.Equal(Steps / 10_000 - 1, map.Columns.Sum(c => c.LossScaleChanges));
        Assert.Equal(Steps / 1000, map.Columns.Sum(c => c.AlertCount));
        Assert.Equal(Steps / 16, map.Cells.Sum(c => c[7].NonFiniteCount));

        clock.Restart();
        string html = new GradientReport(snapshot, "200 layers x 100,000 steps").ToHtml();
        output.WriteLine($"rendered {html.Length:N0} characters in {clock.ElapsedMilliseconds} ms");
        string path = Path.Combine(_directory, "big.html");
        File.WriteAllText(path, html);
        string dom = Chromium.DumpDom(path);
        var cellsGroup = System.Text.RegularExpressions.Regex.Match(dom, "<g id=\"heatmap-cells\".*?</g>", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.Equal(map.Columns.Count * Layers, System.Text.RegularExpressions.Regex.Matches(cellsGroup.Value, "<rect[ >]").Count);
        Assert.InRange(html.Length, 0, 6_000_000);
        string? keep = Environment.GetEnvironmentVariable("GD_HEATMAP_SCREENSHOT");
        if (keep is not null)
        {
            Chromium.Screenshot(path, keep);
        }
    }
}
