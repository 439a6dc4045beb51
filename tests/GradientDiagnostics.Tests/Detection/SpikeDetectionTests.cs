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

    private static GradientStepResult Step(GradientAnalyzer analyzer, float norm) =>
        // Two layers of 50 equal elements: global norm = √(100)·v = norm.
        analyzer.Analyze([Synthetic.Gradient(50, norm / 10), Synthetic.Gradient(50, norm / 10)]);

    [Fact]
    public void A_10x_jump_after_warmup_fires_a_zscore_spike_once()
    {
        GradientAnalyzer analyzer = Analyzer();
        float[] norms = [.. NoisyNorms(60), 10f, 10f, .. NoisyNorms(10, seed: 3)];

        GradientStepResult[] results = [.. norms.Select(n => Step(analyzer, n))];

        GradientAlert spike = Assert.Single(results.SelectMany(r => r.Alerts));
        Assert.Equal((60L, GradientAlertKind.Exploding, GradientMetricNames.GlobalGradientNormZScore, 6.0), (spike.Step, spike.Kind, spike.Metric, spike.Threshold));
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
