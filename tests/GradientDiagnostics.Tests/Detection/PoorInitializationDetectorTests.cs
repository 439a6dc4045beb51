namespace GradientDiagnostics.Tests.Detection;

public sealed class PoorInitializationDetectorTests
{
    private const int Width = 64;

    private static LayerObservation WithVariance(double std) =>
        Synthetic.Gradient(10, 0.01f) with
        {
            Activations = LayerObservations.SummarizeActivations(Synthetic.Weights(8 * Width, std, seed: 7), Width, ActivationKind.ReLU),
        };

    private static LayerObservation WithWeights(double std) => LayerObservations.Create(Synthetic.Filled(10, 0.01f), Synthetic.Weights(Width * Width, std));

    [Fact]
    public void Activation_variance_ratio_above_10_across_hidden_layers_fires_once_on_the_first_measured_step()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(4, Width, ActivationKind.ReLU), o => o.PoorInitialization.CooldownSteps = 0);
        LayerObservation head = WithVariance(0.01); // the last layer's scale is set by the loss and never compared
        // Hidden variances 1, 16, 256: 16x per layer, as 4x He makes them.
        LayerObservation[] growing = [WithVariance(1), WithVariance(4), WithVariance(16), head];
        LayerObservation[] unmeasured = [.. growing.Select(o => o with { Activations = null })];

        GradientStepResult[] results = [.. new[] { unmeasured, unmeasured, growing, growing, growing }.Select(o => analyzer.Analyze(o))];

        GradientAlert alert = Assert.Single(results.SelectMany(r => r.Alerts));
        Assert.Equal((GradientAlertKind.PoorInitialization, GradientMetricNames.ActivationVarianceRatio, "fc2", 2L),
            (alert.Kind, alert.Metric, alert.Layer, alert.Step));
        Assert.InRange(alert.Value, 150, 400);
        Assert.Contains("grows", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_spread_above_10_that_changes_less_than_9x_per_layer_raises_nothing()
    {
        // The soak's model at TorchSharp's default init: 12.8x across two layers, 3.6x per layer. Variances 1, 3.5, 12.3:
        // the same 3.5x per layer over three.
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(4, Width, ActivationKind.ReLU));
        Assert.Empty(analyzer.Analyze([WithVariance(1), WithVariance(Math.Sqrt(3.5)), WithVariance(3.5), WithVariance(0.01)]).Alerts);
    }

    [Fact]
    public void One_layer_that_changes_the_variance_more_than_9x_is_steep_enough_however_far_the_extremes_lie()
    {
        // Six flat layers, then one whose variance is 25x its input's: over the whole network only 1.7x per layer.
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(8, Width, ActivationKind.ReLU));
        LayerObservation[] step = [.. Enumerable.Range(0, 6).Select(_ => WithVariance(1)), WithVariance(5), WithVariance(0.01)];

        GradientAlert alert = Assert.Single(analyzer.Analyze(step).Alerts);

        Assert.Equal((GradientMetricNames.ActivationVarianceRatio, "fc6"), (alert.Metric, alert.Layer));
        Assert.InRange(alert.Value, 15, 40);
    }

    [Fact]
    public void Activations_first_measured_after_the_initial_steps_are_not_judged()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(4, Width, ActivationKind.ReLU));
        LayerObservation[] growing = [WithVariance(1), WithVariance(2), WithVariance(8), WithVariance(1)];
        LayerObservation[] unmeasured = [.. growing.Select(o => o with { Activations = null })];

        Assert.Empty(Enumerable.Range(0, 15).SelectMany(i => analyzer.Analyze(i < 10 ? unmeasured : growing).Alerts));
    }

    [Fact]
    public void Tanh_variances_shrinking_with_depth_are_not_judged()
    {
        // tanh + Xavier is a good init, yet its forward variance shrinks with depth (a ratio of 54 over 30 layers,
        // measured through the TorchSharp adapter by PoorInitializationEndToEndTests).
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(4, Width, ActivationKind.Tanh));
        Assert.Empty(analyzer.Analyze([WithVariance(1), WithVariance(0.3), WithVariance(0.1), WithVariance(1)]).Alerts);
    }

    [Fact]
    public void Variances_within_10x_raise_nothing()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(4, Width, ActivationKind.ReLU));
        Assert.Empty(analyzer.Analyze([WithVariance(1), WithVariance(1.5), WithVariance(2.5), WithVariance(0.01)]).Alerts);
    }

    [Fact]
    public void Weight_std_far_above_he_fires_and_names_the_expectation()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(2, Width, ActivationKind.ReLU));
        double he = Math.Sqrt(2.0 / Width);

        GradientAlert alert = Assert.Single(analyzer.Analyze([WithWeights(he), WithWeights(4 * he)]).Alerts);

        Assert.Equal(("fc1", GradientMetricNames.WeightStdRatioToExpected, 3.0), (alert.Layer, alert.Metric, alert.Threshold));
        Assert.Equal(4, alert.Value, 0.2);
        Assert.Contains("vs He 0.177", alert.Message, StringComparison.Ordinal);
        Assert.Contains("fan-in 64", alert.Message, StringComparison.Ordinal);
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.InitializeForGradientFlow &&
            f.Text.Contains("re-initialise with He", StringComparison.Ordinal));
    }

    [Fact]
    public void Small_weights_are_reported_only_when_asked_for()
    {
        double he = Math.Sqrt(2.0 / Width);
        LayerObservation[] step = [WithWeights(he), WithWeights(he / 20)]; // a residual branch initialised near zero on purpose
        GradientAnalyzer byDefault = Synthetic.Analyzer(Synthetic.Linear(2, Width, ActivationKind.ReLU));
        GradientAnalyzer asked = Synthetic.Analyzer(Synthetic.Linear(2, Width, ActivationKind.ReLU), o => o.PoorInitialization.ReportSmallWeights = true);

        Assert.Empty(byDefault.Analyze(step).Alerts);
        GradientAlert alert = Assert.Single(asked.Analyze(step).Alerts);
        Assert.Equal(("fc1", 1 / 3.0), (alert.Layer, alert.Threshold));
        Assert.Equal(0.05, alert.Value, 0.005);
    }

    [Fact]
    public void Torch_default_init_is_not_poor_and_unknown_activation_is_not_judged()
    {
        // TorchSharp's default Linear init: Kaiming-uniform with a = √5, std = 1/√(3·fan_in).
        double torchDefault = 1 / Math.Sqrt(3.0 * Width);
        GradientAnalyzer relu = Synthetic.Analyzer(Synthetic.Linear(2, Width, ActivationKind.ReLU));
        GradientAnalyzer tanh = Synthetic.Analyzer(Synthetic.Linear(2, Width, ActivationKind.Tanh));
        GradientAnalyzer unknown = Synthetic.Analyzer(Synthetic.Linear(2, Width, ActivationKind.Unknown));

        Assert.Empty(relu.Analyze([WithWeights(torchDefault), WithWeights(torchDefault)]).Alerts);
        Assert.Empty(tanh.Analyze([WithWeights(torchDefault), WithWeights(torchDefault)]).Alerts);
        Assert.Empty(unknown.Analyze([WithWeights(10), WithWeights(10)]).Alerts);
    }
}
