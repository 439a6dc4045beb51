using Microsoft.Extensions.Logging.Testing;

namespace GradientDiagnostics.Tests.Detection;

public sealed class DetectorTests
{
    private static LayerObservation Layer(int elements, float value) =>
        new(TensorStatistics.Compute(Enumerable.Repeat(value, elements).ToArray()));

    private static GradientAnalyzer Analyzer(int layers, Action<GradientMonitorOptions>? configure = null, FakeLogger? logger = null)
    {
        var options = new GradientMonitorOptions();
        options.Vanishing.Persistence = 1;
        options.Vanishing.PersistenceWindow = 1;
        configure?.Invoke(options);
        return new GradientAnalyzer([.. Enumerable.Range(0, layers).Select(i => $"layer{i}")], options, logger);
    }

    [Fact]
    public void Healthy_profile_raises_nothing()
    {
        GradientAnalyzer analyzer = Analyzer(4);
        GradientStepResult result = analyzer.Analyze([Layer(100, 0.02f), Layer(100, 0.05f), Layer(100, 0.01f), Layer(10, 0.1f)], loss: 0.5);

        Assert.Empty(result.Alerts);
        Assert.False(result.SkipStep);
        Assert.Equal(Math.Sqrt(100 * 0.02 * 0.02 + 100 * 0.05 * 0.05 + 100 * 0.01 * 0.01 + 10 * 0.1 * 0.1), result.GlobalNorm, 1e-6);
    }

    [Fact]
    public void Vanishing_absolute_names_the_smallest_layer()
    {
        GradientAnalyzer analyzer = Analyzer(3, o => o.Vanishing.RelativeNormThreshold = 1e-12);
        GradientStepResult result = analyzer.Analyze([Layer(100, 1e-9f), Layer(100, 1e-8f), Layer(100, 1e-3f)]);

        GradientAlert alert = Assert.Single(result.Alerts);
        Assert.Equal((GradientAlertKind.Vanishing, "layer0", GradientMetricNames.MeanAbsoluteGradient), (alert.Kind, alert.Layer, alert.Metric));
        Assert.Equal(1e-9, alert.Value, 1e-15);
        Assert.Contains("2 of 3 layers", alert.Message, StringComparison.Ordinal);
        Assert.Contains("He init", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vanishing_relative_fires_when_the_signal_shrinks_towards_the_input_only()
    {
        GradientAnalyzer shrinking = Analyzer(3, o => o.Vanishing.MeanMagnitudeThreshold = 1e-30);
        GradientAnalyzer growing = Analyzer(3, o => o.Vanishing.MeanMagnitudeThreshold = 1e-30);

        GradientStepResult a = shrinking.Analyze([Layer(100, 1e-6f), Layer(100, 1e-3f), Layer(100, 1f)]);
        GradientStepResult b = growing.Analyze([Layer(100, 1f), Layer(100, 1e-3f), Layer(100, 1e-6f)]);

        GradientAlert alert = Assert.Single(a.Alerts);
        Assert.Equal(("layer0", GradientMetricNames.NormRatioToLaterLayers), (alert.Layer, alert.Metric));
        Assert.Equal(1e-6, alert.Value, 1e-9);
        Assert.DoesNotContain(b.Alerts, x => x.Kind == GradientAlertKind.Vanishing);
        Assert.Contains(b.Alerts, x => x.Kind == GradientAlertKind.Exploding && x.Layer == "layer0");
    }

    [Fact]
    public void Exploding_fires_on_a_global_norm_above_the_threshold()
    {
        GradientAnalyzer analyzer = Analyzer(2);
        GradientStepResult result = analyzer.Analyze([Layer(100, 2000f), Layer(100, 1000f)]);

        GradientAlert alert = Assert.Single(result.Alerts);
        Assert.Equal((GradientAlertKind.Exploding, GradientAlert.GlobalLayerName), (alert.Kind, alert.Layer));
        Assert.Equal(Math.Sqrt(100 * 2000.0 * 2000 + 100 * 1000.0 * 1000), alert.Value, 1e-6);
        Assert.Contains("'layer0'", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_finite_names_the_layer_closest_to_the_loss_and_skips()
    {
        GradientAnalyzer analyzer = Analyzer(3);
        var nan = new LayerObservation(TensorStatistics.Compute([1f, float.NaN, 2f]));
        GradientStepResult result = analyzer.Analyze([nan, nan, Layer(3, 1f)]);

        GradientAlert alert = Assert.Single(result.Alerts);
        Assert.Equal((GradientAlertKind.NonFinite, "layer1", 1.0), (alert.Kind, alert.Layer, alert.Value));
        Assert.Contains("2 of 3 layers", alert.Message, StringComparison.Ordinal);
        Assert.True(result.SkipStep);
    }

    [Fact]
    public void Non_finite_loss_alone_skips_the_step_unless_protection_is_off()
    {
        GradientStepResult on = Analyzer(1).Analyze([Layer(3, 1f)], loss: double.NaN);
        GradientStepResult off = Analyzer(1, o => o.SkipNonFiniteSteps = false).Analyze([Layer(3, 1f)], loss: double.PositiveInfinity);

        Assert.True(on.SkipStep);
        Assert.Equal(GradientAlert.LossLayerName, Assert.Single(on.Alerts).Layer);
        Assert.False(off.SkipStep);
        Assert.Single(off.Alerts);
    }

    [Fact]
    public void Non_finite_reports_each_new_episode_or_source_but_not_a_diverged_run_every_step()
    {
        GradientAnalyzer analyzer = Analyzer(2, o => o.NonFinite.CooldownSteps = 10);
        var nan = new LayerObservation(TensorStatistics.Compute([float.NaN]));
        var fine = Layer(1, 1f);
        (LayerObservation[] Layers, double Loss)[] steps =
        [
            ([nan, fine], 1), // new episode: layer0
            ([fine, fine], 1),
            ([nan, fine], 1), // new episode: layer0 again
            ([nan, nan], 1), // new source: layer1
            ([nan, nan], double.NaN), // new source: the loss
            .. Enumerable.Repeat<(LayerObservation[], double)>(([nan, nan], double.NaN), 12), // diverged: quiet, then one repeat after the cooldown
        ];

        string[] fired = [.. steps.Select(s => analyzer.Analyze(s.Layers, s.Loss)).SelectMany(r => r.Alerts.Select(a => $"{r.Step}:{a.Layer}"))];

        Assert.Equal(["0:layer0", "2:layer0", "3:layer1", "4:(loss)", "15:(loss)"], fired);
    }

    [Fact]
    public void Disabled_detector_raises_nothing()
    {
        GradientAnalyzer analyzer = Analyzer(2, o => o.Exploding.Enabled = false);
        Assert.Empty(analyzer.Analyze([Layer(100, 2000f), Layer(100, 1000f)]).Alerts);
    }

    [Fact]
    public void Observation_count_must_match_the_layers()
    {
        GradientAnalyzer analyzer = Analyzer(2);
        Assert.Throws<ArgumentException>(() => analyzer.Analyze([Layer(1, 1f)]));
    }
}
