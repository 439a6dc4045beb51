namespace GradientDiagnostics.Tests.Clipping;

public sealed class GlobalNormClippingTests
{
    private static ClippingHarness Reference(GradientClipping policy) =>
        new(policy, ClippingHarness.Layer(3, 4), ClippingHarness.Layer(12));

    [Fact]
    public void L2_reference_vector_scales_by_one_over_13_000001()
    {
        ClippingHarness h = Reference(GradientClipping.ByGlobalNorm(1));

        GradientStepResult result = h.Step();

        Assert.Equal(13, result.NormBeforeClipping!.Value, 1e-12);
        Assert.Equal(0.0769230710, result.ClippingCoefficient, 1e-10);
        Assert.Equal([0.2307692130f, 0.3076922840f], h.Gradient(0));
        Assert.Equal([0.9230768521f], h.Gradient(1));
        Assert.Equal(13 * 0.0769230710, result.NormAfterClipping!.Value, 1e-8);
        Assert.True(result.ClippingActed);
    }

    [Fact]
    public void Max_norm_13_still_shrinks_slightly_because_of_the_epsilon()
    {
        ClippingHarness h = Reference(GradientClipping.ByGlobalNorm(13));

        GradientStepResult result = h.Step();

        Assert.Equal(0.999999923, result.ClippingCoefficient, 1e-9);
        Assert.True(result.ClippingActed);
        Assert.True(h.Gradient(1)[0] < 12f);
    }

    [Fact]
    public void Max_norm_20_leaves_the_gradients_unchanged()
    {
        ClippingHarness h = Reference(GradientClipping.ByGlobalNorm(20));

        GradientStepResult result = h.Step();

        Assert.Equal(1, result.ClippingCoefficient);
        Assert.False(result.ClippingActed);
        Assert.Equal([3f, 4f], h.Gradient(0));
        Assert.Equal([12f], h.Gradient(1));
        Assert.Equal(13, result.NormAfterClipping!.Value, 1e-12);
    }

    [Fact]
    public void Infinity_norm_total_is_12_and_coefficient_0_0833333264()
    {
        ClippingHarness h = Reference(GradientClipping.ByGlobalNorm(1, double.PositiveInfinity));

        GradientStepResult result = h.Step();

        Assert.Equal(12, result.NormBeforeClipping!.Value);
        Assert.Equal(0.0833333264, result.ClippingCoefficient, 1e-10);
        Assert.Equal(12 * 0.0833333264, h.Gradient(1)[0], 1e-6);
    }

    [Fact]
    public void One_norm_total_is_19()
    {
        ClippingHarness h = Reference(GradientClipping.ByGlobalNorm(1, 1));

        GradientStepResult result = h.Step();

        Assert.Equal(19, result.NormBeforeClipping!.Value, 1e-12);
        Assert.Equal(1 / 19.000001, result.ClippingCoefficient, 1e-12);
    }

    [Fact]
    public void General_p_norm_uses_the_power_sums()
    {
        ClippingHarness h = Reference(GradientClipping.ByGlobalNorm(1, 3));

        GradientStepResult result = h.Step();

        double total = Math.Cbrt(27 + 64 + 1728);
        Assert.Equal(total, result.NormBeforeClipping!.Value, 1e-9);
        Assert.Equal(1 / (total + 1e-6), result.ClippingCoefficient, 1e-12);
        Assert.Equal(1, result.NormAfterClipping!.Value, 1e-5);
    }

    [Fact]
    public void ByValue_reference_vector_clamps_each_element()
    {
        ClippingHarness h = Reference(GradientClipping.ByValue(3.5));

        GradientStepResult result = h.Step();

        Assert.Equal([3f, 3.5f], h.Gradient(0));
        Assert.Equal([3.5f], h.Gradient(1));
        Assert.True(result.ClippingActed);
        Assert.Equal(Math.Sqrt(9 + 12.25 + 12.25), result.NormAfterClipping!.Value, 1e-9);
    }

    [Fact]
    public void ByValue_above_every_element_does_not_act()
    {
        ClippingHarness h = Reference(GradientClipping.ByValue(12));

        Assert.False(h.Step().ClippingActed);
        Assert.Equal([12f], h.Gradient(1));
    }

    [Fact]
    public void ByLayerNorm_clips_each_layer_on_its_own()
    {
        ClippingHarness h = Reference(GradientClipping.ByLayerNorm(6));

        GradientStepResult result = h.Step();

        Assert.Equal([3f, 4f], h.Gradient(0));
        Assert.Equal(12 * (6 / 12.000001), h.Gradient(1)[0], 1e-5);
        Assert.True(result.ClippingActed);
        Assert.Equal(1, result.ClippingCoefficient);
    }

    [Fact]
    public void ByLayerNorm_leaves_an_excluded_layer_alone_by_name()
    {
        ClippingHarness h = Reference(GradientClipping.ByLayerNorm(1, "layer1"));

        h.Step();

        Assert.Equal(1 / 5.000001 * 3, h.Gradient(0)[0], 1e-6);
        Assert.Equal([12f], h.Gradient(1));
    }

    [Fact]
    public void Excluding_an_unknown_layer_fails_at_construction_naming_it()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ClippingHarness(GradientClipping.ByLayerNorm(1, "head"), ClippingHarness.Layer(1)));

        Assert.Contains("'head'", ex.Message, StringComparison.Ordinal);
    }
}
