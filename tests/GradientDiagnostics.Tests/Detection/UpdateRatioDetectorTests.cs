namespace GradientDiagnostics.Tests.Detection;

public sealed class UpdateRatioDetectorTests
{
    private static LayerObservation Step(double ratio)
    {
        // He-scaled weights for fan-in 32, so only the update is off. ‖w‖ is measured after the step; choosing
        // w_before = (1 − ratio)·w gives ‖Δw‖ = ratio·‖w‖.
        float[] after = Synthetic.Weights(1000, Math.Sqrt(2.0 / 32));
        float[] before = [.. after.Select(w => (float)(w * (1 - ratio)))];
        return LayerObservations.Create(Synthetic.Filled(10, 0.01f), after, before);
    }

    private static GradientAnalyzer Analyzer() =>
        Synthetic.Analyzer(Synthetic.Linear(2, 32, ActivationKind.ReLU), o => (o.UpdateRatio.Enabled, o.UpdateRatio.Persistence, o.UpdateRatio.PersistenceWindow) = (true, 1, 1));

    [Fact]
    public void Update_ratio_above_10_is_a_warning_naming_the_learning_rate()
    {
        GradientAlert alert = Assert.Single(Analyzer().Analyze([Step(1e-3), Step(20)]).Alerts);

        Assert.Equal((GradientAlertKind.UpdateRatio, GradientAlertSeverity.Warning, "fc1", 10.0), (alert.Kind, alert.Severity, alert.Layer, alert.Threshold));
        Assert.Equal(20, alert.Value, 1e-4);
        Assert.Contains(GradientAlertFix.LowerLearningRate, alert.Fixes.Select(f => f.Id));
    }

    [Fact]
    public void Update_ratio_below_1e_8_is_a_warning_and_far_from_1e_3_is_information()
    {
        GradientAlert frozen = Assert.Single(Analyzer().Analyze([Step(1e-3), Step(0)]).Alerts);
        GradientAlert slow = Assert.Single(Analyzer().Analyze([Step(1e-3), Step(1e-6)]).Alerts);

        Assert.Equal((GradientAlertSeverity.Warning, 0.0, 1e-8), (frozen.Severity, frozen.Value, frozen.Threshold));
        Assert.Equal((GradientAlertSeverity.Information, "fc1", 1e-5), (slow.Severity, slow.Layer, slow.Threshold));
        Assert.Equal(1e-6, slow.Value, 1e-8);
        Assert.Contains(GradientAlertFix.RaiseLearningRate, slow.Fixes.Select(f => f.Id));
    }

    [Fact]
    public void A_step_where_no_layer_changed_is_a_skipped_step_not_a_frozen_network()
    {
        GradientAnalyzer analyzer = Analyzer();
        Assert.Empty(Enumerable.Range(0, 5).SelectMany(_ => analyzer.Analyze([Step(0), Step(0)]).Alerts));
    }

    [Fact]
    public void Healthy_ratios_and_unmeasured_updates_raise_nothing()
    {
        Assert.Empty(Analyzer().Analyze([Step(1e-3), Step(3e-2)]).Alerts);
        Assert.Empty(Analyzer().Analyze([LayerObservations.Create(Synthetic.Filled(10, 0.01f), Synthetic.Weights(10, 1)), Synthetic.Gradient(10, 0.01f)]).Alerts);
    }
}
