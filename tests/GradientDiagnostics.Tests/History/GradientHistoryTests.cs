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
        // Values worked by hand from ZClip's update (μ ← αμ + (1 − α)x, then σ² ← ασ² + (1 − α)(x − μ)² with the new μ),
        // at α = 0.5 so every figure is exact in binary: warm-up 1, 3 gives μ = 2, σ² = 1 (population variance);
        // 6 gives μ = 4, σ² = 0.5 + 0.5·4 = 2.5; 0 gives μ = 2, σ² = 1.25 + 0.5·4 = 3.25.
        var moving = new ExponentialMovingStatistics(decay: 0.5, warmupCount: 2);
        moving.Add(1);
        moving.Add(3);
        Assert.Equal((2.0, 1.0), (moving.Mean, moving.Variance));

        moving.Add(double.NaN); // ignored
        moving.Add(6);
        Assert.Equal((4.0, 2.5), (moving.Mean, moving.Variance));
        moving.Add(0);
        Assert.Equal((2.0, 3.25), (moving.Mean, moving.Variance));
        Assert.Equal(5 / Math.Sqrt(3.25), moving.ZScore(7), 1e-15);
    }

    [Fact]
    public void Moving_mean_equals_the_closed_form_weighted_sum_of_the_series()
    {
        // The recursion unrolled: μ_k = α^k·μ_0 + Σ_i (1 − α)·α^(k−i)·x_i, computed here directly as a weighted sum.
        const double Alpha = 0.97;
        var moving = new ExponentialMovingStatistics(Alpha, warmupCount: 1);
        var random = new Random(3);
        double first = 10;
        moving.Add(first);
        double[] series = [.. Enumerable.Range(0, 500).Select(_ => random.NextDouble() * 100)];
        foreach (double x in series)
        {
            moving.Add(x);
        }

        int k = series.Length;
        double expected = Math.Pow(Alpha, k) * first;
        for (int i = 1; i <= k; i++)
        {
            expected += (1 - Alpha) * Math.Pow(Alpha, k - i) * series[i - 1];
        }

        Assert.Equal(expected, moving.Mean, 1e-9 * expected);
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
