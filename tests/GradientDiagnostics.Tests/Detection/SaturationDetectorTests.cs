namespace GradientDiagnostics.Tests.Detection;

public sealed class SaturationDetectorTests
{
    private const int Samples = 50, Units = 20, Width = 20;

    private static LayerObservation Layer(double saturated, double weightStd) =>
        LayerObservations.Create(Synthetic.Filled(10, 0.01f), Synthetic.Weights(Width * Width, weightStd)) with
        {
            Activations = LayerObservations.SummarizeActivations(Synthetic.PreActivations(Samples, Units, saturated), Units, ActivationKind.Sigmoid),
        };

    [Fact]
    public void Saturation_fires_on_a_sigmoid_layer_with_71_percent_saturated_and_names_init_and_relu()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(3, Width, ActivationKind.Sigmoid));
        LayerObservation healthy = Layer(0.05, Math.Sqrt(2.0 / (Width + Width)));

        GradientAlert[] alerts = [.. Enumerable.Range(0, 2).SelectMany(_ => analyzer.Analyze([healthy, healthy, Layer(0.71, 0.9)]).Alerts)];

        GradientAlert alert = Assert.Single(alerts, a => a.Kind == GradientAlertKind.Saturation);
        Assert.Equal(("fc2", GradientMetricNames.SaturatedFraction, 1L), (alert.Layer, alert.Metric, alert.Step));
        Assert.Equal(0.71, alert.Value, 1e-9);
        Assert.Equal(0.5, alert.Threshold);
        Assert.StartsWith("Units saturate in 'fc2': ", alert.Message, StringComparison.Ordinal);
        Assert.Contains("71% of units saturated (threshold 50%).", alert.Message, StringComparison.Ordinal);
        Assert.Contains("'fc2' (Sigmoid follows; weight std 0.9", alert.Message, StringComparison.Ordinal);
        Assert.True(alert.Message.Contains("vs Xavier 0.22", StringComparison.Ordinal), alert.Message);
        Assert.Contains("71% of units saturated", alert.Message, StringComparison.Ordinal);
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.InitializeForGradientFlow && f.Text.Contains("Xavier", StringComparison.Ordinal));
        Assert.Contains(GradientAlertFix.SwitchActivation, alert.Fixes.Select(f => f.Id));
        Assert.Equal(alert.Causes.Count, alert.Fixes.Count);
    }

    [Fact]
    public void Saturation_stays_quiet_at_40_percent_and_when_activations_are_not_measured()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(2, Width, ActivationKind.Tanh));
        LayerObservation unmeasured = Synthetic.Gradient(10, 0.01f);
        LayerObservation mild = LayerObservations.Create(Synthetic.Filled(10, 0.01f)) with
        {
            Activations = LayerObservations.SummarizeActivations(Synthetic.PreActivations(Samples, Units, 0.4), Units, ActivationKind.Tanh),
        };

        GradientAlert[] alerts = [.. Enumerable.Range(0, 10).SelectMany(i => analyzer.Analyze(i % 2 == 0 ? [mild, mild] : [unmeasured, unmeasured]).Alerts)];

        Assert.Empty(alerts);
    }

    [Fact]
    public void Saturation_persistence_counts_only_measured_steps()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(1, Width, ActivationKind.Sigmoid));
        LayerObservation saturated = Layer(0.9, 0.2), unmeasured = Synthetic.Gradient(10, 0.01f);

        // Two saturated measurements (2 of 3) are needed; the unmeasured steps between them do not break the window.
        long[] fired = [.. new[] { saturated, unmeasured, unmeasured, unmeasured, saturated }
            .Select(o => analyzer.Analyze([o])).Where(r => r.Alerts.Any(a => a.Kind == GradientAlertKind.Saturation)).Select(r => r.Step)];

        Assert.Equal([4L], fired);
    }
}
