namespace GradientDiagnostics.Tests.Detection;

public sealed class SpikeDetectionTests
{
    private static GradientAnalyzer Analyzer(Action<GradientMonitorOptions>? configure = null) =>
        Synthetic.Analyzer([new LayerDescriptor("a"), new LayerDescriptor("b")], configure);

    // A healthy, noisy run: the global norm wanders ±30% around 1 (log-normal noise), deterministic.
    private static float[] NoisyNorms(int steps, int seed = 11)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, steps).Select(_ => (float)Math.Exp(0.3 * (random.NextDouble() - 0.5) * 2))];
    }

    private static GradientStepResult Step(GradientAnalyzer analyzer, float norm, double? loss = null) =>
        // Two layers of 50 equal elements: global norm = √(100)·v = norm.
        analyzer.Analyze([Synthetic.Gradient(50, norm / 10), Synthetic.Gradient(50, norm / 10)], loss);

    /// <summary>The alerts of a noisy 150-step run (loss = norm², as an MSE regression gives), then <paramref name="tail"/>.</summary>
    private static GradientAlert[] AfterNoisyRun(GradientAnalyzer analyzer, params (float Norm, double Loss)[] tail) =>
        [.. NoisyNorms(150).Select(n => (n, (double)n * n)).Concat(tail).SelectMany(s => Step(analyzer, s.Item1, s.Item2).Alerts)];

    [Fact]
    public void A_spike_whose_loss_rose_at_least_as_much_as_the_norm_is_an_outlier_batch_and_raises_nothing()
    {
        // 8x the norm with 64x the loss (MSE: the loss goes with the square of the residual), under 10x the early maximum.
        Assert.Empty(AfterNoisyRun(Analyzer(), (8f, 64)));
        Assert.Empty(AfterNoisyRun(Analyzer(), (8f, 16)));
    }

    [Fact]
    public void A_spike_with_a_steady_loss_or_without_a_loss_or_with_the_option_off_is_reported()
    {
        GradientAlert steady = Assert.Single(AfterNoisyRun(Analyzer(), (8f, 1.2)));
        GradientAlert off = Assert.Single(AfterNoisyRun(Analyzer(o => o.Exploding.IgnoreOutlierBatches = false), (8f, 64)));
        GradientAnalyzer noLoss = Analyzer();
        GradientAlert unknown = Assert.Single(NoisyNorms(150).Append(8f).SelectMany(n => Step(noLoss, n).Alerts));

        Assert.All(new[] { steady, off, unknown }, a => Assert.Equal((150L, GradientMetricNames.GlobalGradientNormZScore), (a.Step, a.Metric)));
    }

    [Fact]
    public void A_norm_that_keeps_growing_is_reported_once_the_step_before_was_a_jump_itself()
    {
        // A divergence: each step 6x the last, the loss 36x. The first jump looks like an outlier batch; the second cannot.
        GradientAlert spike = Assert.Single(AfterNoisyRun(Analyzer(), (6f, 36), (36f, 1296)));

        Assert.Equal((151L, GradientMetricNames.GlobalGradientNormZScore), (spike.Step, spike.Metric));
    }

    [Fact]
    public void Ten_times_the_early_maximum_is_reported_even_when_the_loss_explains_it()
    {
        GradientAlert spike = Assert.Single(AfterNoisyRun(Analyzer(), (15f, 225)));

        Assert.Equal((150L, GradientMetricNames.GlobalGradientNormRatioToEarlyMax), (spike.Step, spike.Metric));
    }

    [Fact]
    public void A_10x_jump_after_warmup_fires_a_zscore_spike_once()
    {
        GradientAnalyzer analyzer = Analyzer();
        float[] norms = [.. NoisyNorms(60), 10f, 10f, .. NoisyNorms(10, seed: 3)];

        GradientStepResult[] results = [.. norms.Select(n => Step(analyzer, n))];

        GradientAlert spike = Assert.Single(results.SelectMany(r => r.Alerts));
        Assert.Equal((60L, GradientAlertKind.Exploding, GradientMetricNames.GlobalGradientNormZScore, 6.0),
            (spike.Step, spike.Kind, spike.Metric, spike.Threshold));
        Assert.True(spike.Value > 20, $"z = {spike.Value}");
        Assert.Contains("spiked to 10", spike.Message, StringComparison.Ordinal);
        Assert.Contains(GradientAlertFix.AdaptiveClipping, spike.Fixes.Select(f => f.Id));
    }

    [Fact]
    public void A_noisy_healthy_run_of_500_steps_raises_no_spike()
    {
        GradientAnalyzer analyzer = Analyzer();
        Assert.Empty(NoisyNorms(500).SelectMany(n => Step(analyzer, n).Alerts));
    }

    [Fact]
    public void A_high_zscore_on_a_quiet_run_is_not_a_spike_below_the_minimum_factor_over_the_mean()
    {
        // A very quiet run (σ ≈ 1% of the mean) makes a benign 3× step score a z-score in the hundreds.
        GradientAnalyzer quiet = Analyzer();
        GradientAnalyzer strict = Analyzer(o => o.Exploding.SpikeMinFactorOverMean = 2);
        float[] norms = [.. Enumerable.Range(0, 60).Select(i => 1f + (0.01f * (i % 3))), 3f];

        GradientAlert[] quietAlerts = [.. norms.SelectMany(n => Step(quiet, n).Alerts)];
        GradientAlert[] strictAlerts = [.. norms.SelectMany(n => Step(strict, n).Alerts)];

        Assert.Empty(quietAlerts);
        Assert.Equal(GradientMetricNames.GlobalGradientNormZScore, Assert.Single(strictAlerts).Metric);
    }

    [Fact]
    public void No_spike_is_judged_during_the_zclip_warmup()
    {
        GradientAnalyzer analyzer = Analyzer(o => o.Exploding.EarlySteps = 1000);
        Assert.Empty(new[] { 1f, 1f, 1f, 50f, 1f, 80f }.SelectMany(n => Step(analyzer, n).Alerts));
    }

    [Fact]
    public void Ten_times_the_early_maximum_fires_even_when_the_zscore_is_disabled_by_a_huge_threshold()
    {
        GradientAnalyzer analyzer = Analyzer(o => (o.Exploding.SpikeZScoreThreshold, o.Exploding.EarlySteps) = (1e12, 20));
        float[] norms = [.. NoisyNorms(30), 15f];

        GradientAlert spike = Assert.Single(norms.Select(n => Step(analyzer, n)).SelectMany(r => r.Alerts));

        Assert.Equal((GradientMetricNames.GlobalGradientNormRatioToEarlyMax, 10.0), (spike.Metric, spike.Threshold));
        Assert.InRange(spike.Value, 15 / 1.35, 15 / 1.0);
    }

    [Fact]
    public void Spike_detection_can_be_turned_off()
    {
        GradientAnalyzer analyzer = Analyzer(o => o.Exploding.SpikeDetection = false);
        float[] norms = [.. NoisyNorms(150), 100f];
        Assert.Empty(norms.SelectMany(n => Step(analyzer, n).Alerts));
    }
}
