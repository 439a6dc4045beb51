namespace GradientDiagnostics.Tests.Detection;

public sealed class NonFiniteWeightsTests
{
    [Fact]
    public void Non_finite_weights_with_finite_gradients_are_reported_with_counts()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(3, 4, ActivationKind.ReLU));
        LayerObservation healthy = LayerObservations.Create(Synthetic.Filled(4, 0.1f), Synthetic.Weights(16, 0.7));
        LayerObservation corrupt = LayerObservations.Create(Synthetic.Filled(4, 0.1f), [1f, float.NaN, float.PositiveInfinity, float.NaN]);

        GradientStepResult result = analyzer.Analyze([corrupt, healthy, healthy], loss: 0.3);

        GradientAlert alert = Assert.Single(result.Alerts);
        Assert.Equal((GradientAlertKind.NonFinite, GradientAlertSeverity.Critical, "fc0", GradientMetricNames.NonFiniteWeightCount, 3.0),
            (alert.Kind, alert.Severity, alert.Layer, alert.Metric, alert.Value));
        Assert.Contains("1 of 3 layers have non-finite weights", alert.Message, StringComparison.Ordinal);
        Assert.Contains("closest to the loss first: 'fc0'", alert.Message, StringComparison.Ordinal);
        Assert.Contains("'fc0' (2 NaN, 1 Inf of 4)", alert.Message, StringComparison.Ordinal);
        Assert.Contains(GradientAlertFix.ReloadCheckpoint, alert.Fixes.Select(f => f.Id));
    }

    [Fact]
    public void Gradients_take_precedence_over_weights_and_the_loss_over_both()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(2, 4, ActivationKind.ReLU));
        LayerObservation badWeights = LayerObservations.Create(Synthetic.Filled(4, 0.1f), [float.NaN]);
        LayerObservation badGradient = LayerObservations.Create([float.NaN, 1f], Synthetic.Weights(16, 0.7));

        GradientAlert gradient = Assert.Single(analyzer.Analyze([badWeights, badGradient], loss: 1).Alerts);
        GradientAlert loss = Assert.Single(analyzer.Analyze([badWeights, badGradient], loss: double.NaN).Alerts);

        Assert.Equal(("fc1", GradientMetricNames.NonFiniteGradientCount), (gradient.Layer, gradient.Metric));
        Assert.Contains("non-finite weights", gradient.Message, StringComparison.Ordinal);
        Assert.Equal(GradientAlert.LossLayerName, loss.Layer);
    }
}
