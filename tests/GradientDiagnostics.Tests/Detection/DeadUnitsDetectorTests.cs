namespace GradientDiagnostics.Tests.Detection;

public sealed class DeadUnitsDetectorTests
{
    private const int Units = 10;

    // Units 0..dead-1 are never active; the others are active on some samples.
    private static LayerObservation Layer(int dead, bool othersActive = true)
    {
        float[] pre = new float[4 * Units];
        for (int i = 0; i < pre.Length; i++)
        {
            pre[i] = i % Units < dead || !othersActive ? -1f : 0.5f;
        }

        return Synthetic.Gradient(10, 0.01f) with { Activations = LayerObservations.SummarizeActivations(pre, Units, ActivationKind.ReLU) };
    }

    [Fact]
    public void Dead_units_fire_once_the_window_shows_70_percent_never_active()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(2, Units, ActivationKind.ReLU), o => o.DeadUnits.Window = 5);

        GradientStepResult[] results = [.. Enumerable.Range(0, 6).Select(_ => analyzer.Analyze([Layer(1), Layer(7)]))];

        Assert.All(results[..4], r => Assert.Empty(r.Alerts));
        GradientAlert alert = Assert.Single(results[4].Alerts);
        Assert.Equal((GradientAlertKind.DeadUnits, "fc1", GradientMetricNames.DeadUnitFraction), (alert.Kind, alert.Layer, alert.Metric));
        Assert.Equal(0.7, alert.Value, 1e-12);
        Assert.Contains("70% of its 10 units were never active", alert.Message, StringComparison.Ordinal);
        Assert.Contains("over the last 5 measured steps", alert.Message, StringComparison.Ordinal);
        Assert.Contains(GradientAlertCause.DeadReLU, alert.Causes.Select(c => c.Id));
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.SwitchActivation && f.Text.Contains("LeakyReLU", StringComparison.Ordinal));
        Assert.Empty(results[5].Alerts); // cooldown
    }

    [Fact]
    public void Units_active_once_within_the_window_are_not_dead()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(1, Units, ActivationKind.ReLU), o => o.DeadUnits.Window = 5);

        // Every unit is off on four steps out of five, but on the fifth they all fire.
        GradientAlert[] alerts = [.. Enumerable.Range(0, 20).SelectMany(i => analyzer.Analyze([i % 5 == 4 ? Layer(0) : Layer(Units)]).Alerts)];

        Assert.Empty(alerts);
    }

    [Fact]
    public void Dead_units_ignore_tanh_and_leaky_relu_layers_and_unmeasured_steps()
    {
        var layers = new[] { new LayerDescriptor("t") { FollowingActivation = ActivationKind.Tanh } };
        GradientAnalyzer tanh = Synthetic.Analyzer(layers, o => o.DeadUnits.Window = 2);
        GradientAnalyzer leaky = Synthetic.Analyzer(Synthetic.Linear(1, Units, ActivationKind.LeakyReLU), o => o.DeadUnits.Window = 2);
        GradientAnalyzer gelu = Synthetic.Analyzer(Synthetic.Linear(1, Units, ActivationKind.GELU), o => o.DeadUnits.Window = 2);

        Assert.Empty(Enumerable.Range(0, 5).SelectMany(_ => leaky.Analyze([Layer(Units)]).Alerts));
        Assert.Single(Enumerable.Range(0, 5).SelectMany(_ => gelu.Analyze([Layer(Units)]).Alerts));
        GradientAnalyzer unmeasured = Synthetic.Analyzer(Synthetic.Linear(1, Units, ActivationKind.ReLU), o => o.DeadUnits.Window = 2);

        Assert.Empty(Enumerable.Range(0, 5).SelectMany(_ => tanh.Analyze([Layer(Units)]).Alerts));
        Assert.Empty(Enumerable.Range(0, 5).SelectMany(_ => unmeasured.Analyze([Synthetic.Gradient(10, 0.01f)]).Alerts));
    }
}
