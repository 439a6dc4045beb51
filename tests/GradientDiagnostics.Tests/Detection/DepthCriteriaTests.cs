namespace GradientDiagnostics.Tests.Detection;

public sealed class DepthCriteriaTests
{
    private const int Depth = 30;

    // Real per-layer gains measured on 30-layer MLPs at init (ENVIRONMENT.md): output-gradient norms ‖∂L/∂y_l‖ that
    // shrink (or grow) by the gain per layer towards the input, with healthy flat parameter-gradient norms, which is
    // exactly the case a parameter-gradient-only monitor misses.
    private static LayerObservation[] Profile(double gain) =>
        [.. Enumerable.Range(0, Depth).Select(i => Synthetic.Gradient(100, 0.01f) with { OutputGradientNorm = Math.Pow(gain, Depth - 1 - i) })];

    private static GradientAnalyzer Analyzer(Action<GradientMonitorOptions>? configure = null) =>
        Synthetic.Analyzer(Synthetic.Linear(Depth, 128, ActivationKind.Sigmoid), o =>
        {
            (o.Vanishing.Persistence, o.Vanishing.PersistenceWindow) = (1, 1);
            configure?.Invoke(o);
        });

    [Fact]
    public void Vanishing_depth_decay_fires_on_a_sigmoid_xavier_profile_with_flat_weight_gradients()
    {
        GradientStepResult result = Analyzer().Analyze(Profile(0.24));

        GradientAlert alert = Assert.Single(result.Alerts);
        Assert.Equal((GradientAlertKind.Vanishing, GradientMetricNames.DepthGainOverDepth, "fc0"), (alert.Kind, alert.Metric, alert.Layer));
        Assert.Equal(Math.Pow(0.24, Depth - 1), alert.Value, Math.Pow(0.24, Depth - 1) * 1e-9);
        Assert.Equal(0.24, result.DepthGain!.Value, 1e-12);
        Assert.Contains("by a factor 0.24 per layer across 30", alert.Message, StringComparison.Ordinal);
        Assert.Contains("across 30 probed layers", alert.Message, StringComparison.Ordinal);
        Assert.Contains(GradientAlertFix.SwitchActivation, alert.Fixes.Select(f => f.Id));
        Assert.Contains(GradientAlertFix.ResidualAndNormalization, alert.Fixes.Select(f => f.Id));
    }

    [Theory]
    [InlineData(0.76)] // ReLU + Xavier: 0.76^29 ≈ 3.5e-4, above 1e-4
    [InlineData(1.06)] // ReLU + He
    [InlineData(1.01)] // tanh + Xavier
    public void Measured_healthy_gains_raise_no_depth_alert(double gain)
    {
        Assert.Empty(Analyzer().Analyze(Profile(gain)).Alerts);
    }

    [Fact]
    public void Exploding_depth_growth_fires_at_three_times_he_gain()
    {
        GradientAlert alert = Assert.Single(Analyzer().Analyze(Profile(3.2)).Alerts);

        Assert.Equal((GradientAlertKind.Exploding, GradientMetricNames.DepthGainOverDepth), (alert.Kind, alert.Metric));
        Assert.True(alert.Value > 1e4);
        Assert.Contains(GradientAlertFix.ClipByGlobalNorm, alert.Fixes.Select(f => f.Id));
    }

    [Fact]
    public void Depth_criteria_are_silent_without_probes_and_can_be_turned_off()
    {
        LayerObservation[] unprobed = [.. Profile(0.24).Select(o => o with { OutputGradientNorm = null })];

        Assert.Empty(Analyzer().Analyze(unprobed).Alerts);
        Assert.Empty(Analyzer(o => o.Vanishing.DepthDecay = false).Analyze(Profile(0.24)).Alerts);
        Assert.Empty(Analyzer(o => o.Exploding.DepthGrowth = false).Analyze(Profile(3.2)).Alerts);
    }
}
