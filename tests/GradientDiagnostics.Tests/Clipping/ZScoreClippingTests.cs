namespace GradientDiagnostics.Tests.Clipping;

public sealed class ZScoreClippingTests
{
    [Fact]
    public void Reference_norms_reproduce_the_published_ema_z_scores_and_coefficient()
    {
        var policy = (ZScorePolicy)GradientClipping.ZScore(warmupSteps: 3).Bind(["layer0"]);

        Assert.Equal(1, policy.Observe(1));
        Assert.Equal(2, policy.Observe(2));
        Assert.Equal(3, policy.Observe(3));
        Assert.Equal(2, policy.Mean, 1e-12);
        Assert.Equal(0.6666667, policy.Variance, 1e-7);

        Assert.Equal(2.5, policy.Observe(2.5));
        Assert.Equal(2.015, policy.Mean, 1e-12);
        Assert.Equal(0.6537234, policy.Variance, 1e-7);

        double tau = policy.Observe(10);
        Assert.Equal(2.5266815, tau, 1e-7);
        Assert.Equal(2.0303504, policy.Mean, 1e-7);
        Assert.Equal(0.6415020, policy.Variance, 1e-7);
    }

    [Fact]
    public void Reference_spike_is_scaled_by_0_2526681_and_warm_up_and_small_z_are_not()
    {
        var h = new ClippingHarness(GradientClipping.ZScore(warmupSteps: 3), ClippingHarness.Layer(0));
        foreach (float norm in new[] { 1f, 2f, 3f, 2.5f })
        {
            GradientStepResult quiet = h.Step([norm]);
            Assert.False(quiet.ClippingActed);
            Assert.Equal(norm, h.Gradient(0)[0]);
        }

        GradientStepResult spike = h.Step([10f]);

        Assert.Equal(0.2526681, spike.ClippingCoefficient, 1e-7);
        Assert.Equal(2.5266815, spike.NormAfterClipping!.Value, 1e-5);
        Assert.True(spike.ClippingActed);
    }

    [Fact]
    public void Max_norm_caps_every_step_warm_up_included()
    {
        var h = new ClippingHarness(GradientClipping.ZScore(warmupSteps: 3, maxNorm: 0.5), ClippingHarness.Layer(0));

        GradientStepResult first = h.Step([2f]);

        Assert.Equal(0.5 / 2.000001, first.ClippingCoefficient, 1e-12);
        Assert.Equal(0.5, h.Gradient(0)[0], 1e-6);
    }
}
