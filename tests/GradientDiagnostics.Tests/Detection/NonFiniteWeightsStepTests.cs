namespace GradientDiagnostics.Tests.Detection;

/// <summary>Non-finite weights are named with the optimizer step after which they became so, with no forward origin, and
/// with the 16-bit cause when they are float16.</summary>
public sealed class NonFiniteWeightsStepTests
{
    [Fact]
    public void Float16_weights_that_turn_non_finite_name_the_step_before_and_the_master_weights_fix()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(2, 4, ActivationKind.Tanh));
        LayerObservation healthy = LayerObservations.Create(Synthetic.Filled(4, 0.1f)) with { ParameterFormat = NumericFormat.Float16 };
        LayerObservation broken = LayerObservations.Create([float.NaN, 1, 1, 1], [float.PositiveInfinity, 1, 1, 1]) with { ParameterFormat = NumericFormat.Float16 };

        analyzer.Analyze([healthy, healthy], loss: 1);
        analyzer.Analyze([healthy, healthy], loss: 1);
        GradientStepResult first = analyzer.Analyze([broken, healthy], loss: double.NaN);
        GradientStepResult repeat = analyzer.Analyze([broken, healthy], loss: double.NaN);

        GradientAlert alert = Assert.Single(first.Alerts);
        Assert.StartsWith("The weights of 'fc0' are non-finite", alert.Message, StringComparison.Ordinal);
        Assert.Contains("since the optimizer step applied after", alert.Message, StringComparison.Ordinal);
        Assert.Contains("optimizer step applied after step 1", alert.Message, StringComparison.Ordinal);
        Assert.Null(alert.Origin);
        Assert.Contains(alert.Causes, c => c.Id == GradientAlertCause.SixteenBitOptimizerState && c.Text.Contains("eps = 1e-8 is 0", StringComparison.Ordinal));
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.MasterWeights && f.Text.Contains("EnableMixedPrecision", StringComparison.Ordinal));
        Assert.Empty(repeat.Alerts); // the same source on the next step: one episode
    }

    [Fact]
    public void Weights_already_non_finite_at_the_first_step_are_said_to_be_so_before_monitoring()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer(Synthetic.Linear(1, 4, ActivationKind.Tanh));

        GradientAlert alert = Assert.Single(analyzer.Analyze([LayerObservations.Create([1f], [float.NaN])], loss: 1).Alerts);

        Assert.StartsWith("The weights of 'fc0' are non-finite", alert.Message, StringComparison.Ordinal);
        Assert.Contains("since before the first monitored step", alert.Message, StringComparison.Ordinal);
        Assert.Contains(GradientAlertFix.ReloadCheckpoint, alert.Fixes.Select(f => f.Id));
    }
}
