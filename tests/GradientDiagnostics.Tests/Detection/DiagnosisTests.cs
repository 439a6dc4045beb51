namespace GradientDiagnostics.Tests.Detection;

public sealed class DiagnosisTests
{
    [Fact]
    public void Vanishing_in_a_deep_sigmoid_net_with_a_tiny_init_names_all_three_causes_with_evidence()
    {
        LayerDescriptor[] layers = Synthetic.Linear(12, 100, ActivationKind.Sigmoid);
        GradientAnalyzer analyzer = Synthetic.Analyzer(layers, o => (o.Vanishing.Persistence, o.Vanishing.PersistenceWindow, o.PoorInitialization.Enabled) = (1, 1, false));
        LayerObservation[] step = [.. Enumerable.Range(0, 12).Select(i =>
            LayerObservations.Create(Synthetic.Filled(100, i == 0 ? 1e-9f : 1e-2f), Synthetic.Weights(10_000, i == 0 ? 0.01 : 0.1)))];

        GradientAlert alert = analyzer.Analyze(step).Alerts.First(a => a.Metric == GradientMetricNames.MeanAbsoluteGradient);

        Assert.Equal("fc0", alert.Layer);
        Assert.StartsWith("Gradients vanish in 'fc0': ", alert.Message, StringComparison.Ordinal);
        Assert.Contains("mean |g| 1e-09 (threshold 1e-07)", alert.Message, StringComparison.Ordinal);
        Assert.Contains("(Sigmoid follows; weight std 0.00996", alert.Message, StringComparison.Ordinal);
        Assert.Contains("weight std 0.00996 vs Xavier 0.1)", alert.Message, StringComparison.Ordinal);
        // The measured init scale ranks first for every criterion (issue 22), then the activation, then depth.
        Assert.Equal([GradientAlertCause.InitScale, GradientAlertCause.SaturatingActivation, GradientAlertCause.Depth], alert.Causes.Select(c => c.Id));
        Assert.Equal([GradientAlertFix.InitializeForGradientFlow, GradientAlertFix.SwitchActivation, GradientAlertFix.ResidualAndNormalization],
            alert.Fixes.Select(f => f.Id));
        Assert.Contains("0.0996× the Xavier expectation", alert.Causes[0].Text, StringComparison.Ordinal);
        Assert.Contains("re-initialise with Xavier", alert.Fixes[0].Text, StringComparison.Ordinal);
        Assert.StartsWith("saturating activation: Sigmoid", alert.Causes[1].Text, StringComparison.Ordinal);
        Assert.Contains("12 layers", alert.Causes[2].Text, StringComparison.Ordinal);
        Assert.All(alert.Fixes, f => Assert.Contains(f.Text, alert.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Vanishing_in_a_tanh_net_with_a_tiny_init_names_the_init_scale_before_the_activation()
    {
        LayerDescriptor[] layers = Synthetic.Linear(12, 100, ActivationKind.Tanh);
        GradientAnalyzer analyzer = Synthetic.Analyzer(layers, o => (o.Vanishing.Persistence, o.Vanishing.PersistenceWindow, o.PoorInitialization.Enabled) = (1, 1, false));
        LayerObservation[] step = [.. Enumerable.Range(0, 12).Select(i =>
            LayerObservations.Create(Synthetic.Filled(100, i == 0 ? 1e-9f : 1e-2f), Synthetic.Weights(10_000, i == 0 ? 0.01 : 0.1)))];

        GradientAlert alert = analyzer.Analyze(step).Alerts.First(a => a.Metric == GradientMetricNames.MeanAbsoluteGradient);

        Assert.Equal("fc0", alert.Layer);
        Assert.Equal([GradientAlertCause.InitScale, GradientAlertCause.SaturatingActivation], alert.Causes.Take(2).Select(c => c.Id));
        Assert.Contains("0.0996× the Xavier expectation", alert.Causes[0].Text, StringComparison.Ordinal);
        Assert.Contains("re-initialise with Xavier", alert.Fixes[0].Text, StringComparison.Ordinal);
        Assert.StartsWith("saturating activation: Tanh", alert.Causes[1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_evidence_the_classic_causes_are_given()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer([new LayerDescriptor("a")], o => (o.Vanishing.Persistence, o.Vanishing.PersistenceWindow) = (1, 1));

        GradientAlert alert = Assert.Single(analyzer.Analyze([Synthetic.Gradient(10, 1e-9f)]).Alerts);

        Assert.Equal([GradientAlertCause.SaturatingActivation, GradientAlertCause.InitScale, GradientAlertCause.Depth], alert.Causes.Select(c => c.Id));
        Assert.Contains(alert.Fixes, f => f.Text.Contains("He init for ReLU", StringComparison.Ordinal));
    }

    [Fact]
    public void Exploding_names_clipping_and_the_learning_rate_and_non_finite_names_skipping_and_the_data()
    {
        GradientAnalyzer analyzer = Synthetic.Analyzer([new LayerDescriptor("a")]);

        GradientAlert exploding = Assert.Single(analyzer.Analyze([Synthetic.Gradient(100, 5000f)]).Alerts);
        GradientAlert nonFinite = Assert.Single(analyzer.Analyze([Synthetic.Gradient(100, float.NaN)]).Alerts);

        Assert.Contains(GradientAlertFix.ClipByGlobalNorm, exploding.Fixes.Select(f => f.Id));
        Assert.Contains(GradientAlertFix.LowerLearningRate, exploding.Fixes.Select(f => f.Id));
        Assert.Contains(nonFinite.Fixes, f => f.Id == GradientAlertFix.LowerLearningRate && f.Text.StartsWith("skip the step", StringComparison.Ordinal));
        Assert.Contains(GradientAlertFix.CheckData, nonFinite.Fixes.Select(f => f.Id));
    }

    [Fact]
    public void Exploding_names_the_clipping_policy_and_the_global_norm_remedy_only_when_no_policy_is_configured()
    {
        GradientAlert unclipped = Assert.Single(Synthetic.Analyzer([new LayerDescriptor("a")]).Analyze([Synthetic.Gradient(100, 5000f)]).Alerts);
        GradientAlert clipped = Assert.Single(
            Synthetic.Analyzer([new LayerDescriptor("a")], o => o.Clipping = GradientClipping.ByGlobalNorm(1.0)).Analyze([Synthetic.Gradient(100, 5000f)]).Alerts);

        Assert.Contains(unclipped.Fixes, f => f.Id == GradientAlertFix.ClipByGlobalNorm && f.Text.Contains("ByGlobalNorm(1.0)", StringComparison.Ordinal));
        Assert.StartsWith("Gradients explode in the whole network", unclipped.Message, StringComparison.Ordinal);
        Assert.Contains("global norm 5e+04 (threshold 1e+04).", unclipped.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(clipped.Fixes, f => f.Id == GradientAlertFix.ClipByGlobalNorm || f.Text.Contains("ByGlobalNorm", StringComparison.Ordinal));
        Assert.Contains(GradientAlertCause.NormsBeforeClipping, clipped.Causes.Select(c => c.Id));
    }
}
