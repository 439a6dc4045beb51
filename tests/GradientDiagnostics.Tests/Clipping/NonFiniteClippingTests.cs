namespace GradientDiagnostics.Tests.Clipping;

public sealed class NonFiniteClippingTests
{
    public static TheoryData<string> Policies => ["global", "global-inf", "global-3", "value", "layer", "agc", "autoclip", "zscore", "chain"];

    private static GradientClipping Create(string name) => name switch
    {
        "global" => GradientClipping.ByGlobalNorm(1),
        "global-inf" => GradientClipping.ByGlobalNorm(1, double.PositiveInfinity),
        "global-3" => GradientClipping.ByGlobalNorm(1, 3),
        "value" => GradientClipping.ByValue(0.5),
        "layer" => GradientClipping.ByLayerNorm(0.5),
        "agc" => GradientClipping.Adaptive(),
        "autoclip" => GradientClipping.AutoClip(),
        "zscore" => GradientClipping.ZScore(warmupSteps: 1),
        _ => GradientClipping.SkipNonFinite().Then(GradientClipping.Adaptive()).Then(GradientClipping.ByGlobalNorm(1)),
    };

    [Theory]
    [MemberData(nameof(Policies))]
    public void NaN_in_one_gradient_leaves_every_gradient_untouched_and_skips_the_step(string policy)
    {
        var h = new ClippingHarness(Create(policy), ClippingHarness.Layer(3, 4), ClippingHarness.Layer(float.NaN, 12));

        GradientStepResult result = h.Step();

        Assert.True(result.SkipStep);
        Assert.False(result.ClippingActed);
        Assert.Equal([3f, 4f], h.Gradient(0));
        Assert.True(float.IsNaN(h.Gradient(1)[0]));
        Assert.Equal(12f, h.Gradient(1)[1]);
        Assert.True(double.IsNaN(result.NormBeforeClipping!.Value));
        Assert.Contains(result.Alerts, a => a.Kind == GradientAlertKind.NonFinite);
    }

    [Fact]
    public void Non_finite_loss_with_finite_gradients_leaves_them_untouched()
    {
        var h = new ClippingHarness(GradientClipping.ByGlobalNorm(1), ClippingHarness.Layer(3, 4));

        GradientStepResult result = h.Step(loss: double.PositiveInfinity);

        Assert.True(result.SkipStep);
        Assert.Equal([3f, 4f], h.Gradient(0));
    }

    [Fact]
    public void SkipNonFinite_policy_skips_even_when_the_monitor_option_is_off()
    {
        var withPolicy = new ClippingHarness(o => { o.SkipNonFiniteSteps = false; o.Clipping = GradientClipping.SkipNonFinite().Then(GradientClipping.ByGlobalNorm(1)); }, ClippingHarness.Layer(float.PositiveInfinity));
        var without = new ClippingHarness(o => { o.SkipNonFiniteSteps = false; o.Clipping = GradientClipping.ByGlobalNorm(1); }, ClippingHarness.Layer(float.PositiveInfinity));

        Assert.True(withPolicy.Step().SkipStep);
        Assert.False(without.Step().SkipStep);
        Assert.True(float.IsPositiveInfinity(without.Gradient(0)[0]));
    }

    [Fact]
    public void SkipNonFinite_alone_changes_nothing_on_a_finite_step()
    {
        var h = new ClippingHarness(GradientClipping.SkipNonFinite(), ClippingHarness.Layer(300, 400));

        GradientStepResult result = h.Step();

        Assert.False(result.SkipStep);
        Assert.False(result.ClippingActed);
        Assert.Equal(500, result.NormAfterClipping!.Value, 1e-9);
    }
}
