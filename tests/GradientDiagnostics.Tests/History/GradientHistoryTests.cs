using Xunit.Abstractions;

namespace GradientDiagnostics.Tests.History;

// Heap measurements count the whole process, so this class runs alone, not beside other test classes.
[CollectionDefinition(nameof(GradientHistoryTests), DisableParallelization = true)]
[Collection(nameof(GradientHistoryTests))]
public sealed class GradientHistoryTests(ITestOutputHelper output)
{
    [Fact]
    public void History_of_100000_steps_keeps_bounded_windows_and_memory()
    {
        const int Layers = 4;
        var options = new GradientMonitorOptions();
        var analyzer = new GradientAnalyzer([.. Enumerable.Range(0, Layers).Select(i => new LayerDescriptor($"l{i}") { FanIn = 16, FanOut = 16, FollowingActivation = ActivationKind.ReLU })], options);
        var units = new float[16];
        Array.Fill(units, 0.5f);
        LayerObservation[] step = [.. Enumerable.Range(0, Layers).Select(i => new LayerObservation(TensorStatistics.Compute([0.01f * (i + 1), -0.02f]))
        {
            OutputGradientNorm = 1.0 + i,
            Activations = new ActivationStatistics { ElementCount = 64, Variance = 1, UnitActiveFraction = units },
        })];

        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 10_000; i++)
        {
            analyzer.Analyze(step);
        }

        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 90_000; i++)
        {
            analyzer.Analyze(step);
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"100,000 steps of {Layers} layers in {clock.ElapsedMilliseconds} ms");

        output.WriteLine($"retained {after - before} bytes over 90,000 steps ({before} -> {after})");
        GradientHistory history = analyzer.History;
        Assert.Equal(100_000, history.Steps);
        Assert.Equal(GradientHistory.WindowLength, history.GlobalNorms.Count);
        Assert.All(history.LayerNorms, w => Assert.Equal((GradientHistory.WindowLength, GradientHistory.WindowLength), (w.Count, w.Capacity)));
        // Retaining even one small object per step (≥ 32 bytes with its reference) would add ≥ 2.9 MB over 90,000
        // steps; measured alone, the heap moves by under 10 kB.
        Assert.True(after - before < 256 * 1024, $"retained {after - before} bytes over 90,000 steps ({before} -> {after})");
    }

    [Fact]
    public void Rolling_window_keeps_the_last_values_and_their_median()
    {
        var window = new RollingWindow(4);
        foreach (double v in new[] { 100.0, 1, 2, 3, 4, double.NaN })
        {
            window.Add(v);
        }

        Assert.Equal(4, window.Count);
        Assert.Equal(3, window.Median()); // 2, 3, 4 kept finite (100 and 1 dropped, NaN ignored)
    }

    [Fact]
    public void Moving_statistics_start_as_the_plain_mean_then_follow_the_zclip_update()
    {
        var moving = new ExponentialMovingStatistics(decay: 0.97, warmupCount: 3);
        moving.Add(1);
        moving.Add(2);
        moving.Add(3);
        Assert.Equal(2.0, moving.Mean, 1e-12);
        Assert.Equal(2.0 / 3, moving.Variance, 1e-12);

        moving.Add(double.NaN); // ignored
        moving.Add(5);
        double mean = (0.97 * 2) + (0.03 * 5);
        Assert.Equal(mean, moving.Mean, 1e-12);
        Assert.Equal((0.97 * 2.0 / 3) + (0.03 * (5 - mean) * (5 - mean)), moving.Variance, 1e-12);
        Assert.Equal((7 - mean) / Math.Sqrt(moving.Variance), moving.ZScore(7), 1e-12);
    }

    [Fact]
    public void Unit_activity_window_counts_units_inactive_on_every_measurement_of_the_window()
    {
        var window = new UnitActivityWindow(window: 3);
        window.Record([1, 0, 0, 0]);
        window.Record([0, 0, 0, 0]);
        Assert.Equal(0, window.DeadFraction()); // not full yet
        window.Record([0, 0.1f, 0, 0]);
        Assert.Equal(0.5, window.DeadFraction()); // units 2 and 3
        window.Record([0, 0, 0, 0]);
        Assert.Equal(0.75, window.DeadFraction()); // unit 0's activity left the window
    }
}
