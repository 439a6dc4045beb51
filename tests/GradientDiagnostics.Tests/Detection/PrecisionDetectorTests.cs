namespace GradientDiagnostics.Tests.Detection;

/// <summary>The Precision detector on observations built from arrays: it judges 16-bit layers only, with persistence,
/// and does not read a lost update into a step the analyzer told to skip.</summary>
public sealed class PrecisionDetectorTests
{
    private static readonly LayerDescriptor[] Layers = Synthetic.Linear(2, 4, ActivationKind.Tanh);

    [Fact]
    public void Underflow_in_a_float16_layer_fires_after_two_of_three_steps_naming_the_layer()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Layers);
        LayerObservation[] step = [Observation(underflowing: 0), Observation(underflowing: 9)];

        GradientStepResult first = analyzer.Analyze(step, loss: 1);
        GradientStepResult second = analyzer.Analyze(step, loss: 1);

        Assert.DoesNotContain(first.Alerts, a => a.Kind == GradientAlertKind.Precision);
        GradientAlert alert = Assert.Single(second.Alerts, a => a.Kind == GradientAlertKind.Precision);
        Assert.Equal(("fc1", GradientMetricNames.UnderflowFraction, 0.9), (alert.Layer, alert.Metric, alert.Value));
        Assert.Equal(0.9, second.Layers[1].UnderflowFraction);
        Assert.Equal(0, second.Layers[0].UnderflowFraction);
        Assert.Contains("90% of its gradient elements are zero", alert.Message, StringComparison.Ordinal);
        Assert.Contains("are zero or subnormal", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Float32_layers_have_no_precision_figures_and_raise_nothing()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Layers, o => (o.Precision.Persistence, o.Precision.PersistenceWindow) = (1, 1));
        LayerObservation zeros = LayerObservations.Create(new float[10]) with { ParameterFormat = NumericFormat.Float32 };

        GradientStepResult result = analyzer.Analyze([zeros, zeros], loss: 1);

        Assert.DoesNotContain(result.Alerts, a => a.Kind == GradientAlertKind.Precision);
        Assert.All(result.Layers, l => Assert.Null(l.UnderflowFraction));
    }

    [Fact]
    public void Lost_updates_fire_and_a_step_after_a_skipped_one_is_not_judged()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Layers, o => (o.Precision.Persistence, o.Precision.PersistenceWindow) = (1, 1));
        LayerObservation stalled = Observation(underflowing: 0) with { LostUpdateFraction = 1 };

        GradientStepResult skipped = analyzer.Analyze([Observation(underflowing: 0), LayerObservations.Create([float.NaN])], loss: 1);
        GradientStepResult afterSkip = analyzer.Analyze([stalled, stalled], loss: 1);
        GradientStepResult judged = analyzer.Analyze([stalled, stalled], loss: 1);

        Assert.True(skipped.SkipStep);
        Assert.DoesNotContain(afterSkip.Alerts, a => a.Kind == GradientAlertKind.Precision);
        GradientAlert alert = Assert.Single(judged.Alerts, a => a.Kind == GradientAlertKind.Precision);
        Assert.Equal((GradientMetricNames.LostUpdateFraction, 1.0), (alert.Metric, alert.Value));
        Assert.Contains(alert.Fixes, f => f.Id is GradientAlertFix.MasterWeights or GradientAlertFix.LossScaling && f.Text.Contains("EnableMixedPrecision", StringComparison.Ordinal));
    }

    [Fact]
    public void Thresholds_are_validated_with_their_option_path()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Synthetic.Analyzer(Layers, o => o.Precision.UnderflowFractionThreshold = 1));
        Assert.Equal("Precision.UnderflowFractionThreshold", error.ParamName);
    }

    /// <summary>A float16 layer of 10 gradient elements, <paramref name="underflowing"/> of them 0 or subnormal.</summary>
    private static LayerObservation Observation(int underflowing)
    {
        Half[] values = [.. Enumerable.Range(0, 10).Select(i => i < underflowing ? (Half)(i % 2 == 0 ? 0 : 1e-6) : (Half)0.5)];
        SixteenBitStatistics s = SixteenBitStatistics.Compute(values);
        return new LayerObservation(s.Values) { ParameterFormat = NumericFormat.Float16, SixteenBitGradient = s };
    }
}
