namespace GradientDiagnostics.Tests.Clipping;

public sealed class AdaptiveGradientClippingTests
{
    private static ArrayClippingTarget.Parameter[] ReferenceLayer() =>
    [
        new([.3f, .4f, .001f, 0f, .06f, 0f], [3, 4, 0, 0, 6, 8], Units: 3),
        new([.1f, .1f], [1, -1], Units: 1),
    ];

    [Fact]
    public void Reference_weight_and_bias_are_clipped_unit_wise()
    {
        var h = new ClippingHarness(GradientClipping.Adaptive(0.01, 1e-3), ReferenceLayer());

        GradientStepResult result = h.Step();

        float[] weight = h.Gradient(0, 0);
        float[] expected = [0.03f, 0.04f, 1e-5f, 0f, 0.06f, 0f];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], weight[i], 1e-8);
        }

        Assert.Equal(0.01f, h.Gradient(0, 1)[0], 1e-8);
        Assert.Equal(0.01f, h.Gradient(0, 1)[1], 1e-8);
        Assert.True(result.ClippingActed);
        Assert.Equal(1, result.ClippingCoefficient);
    }

    [Fact]
    public void Excluded_head_is_left_alone_by_name_and_other_layers_are_clipped()
    {
        var h = new ClippingHarness(GradientClipping.Adaptive(excludedLayers: "layer1"), ReferenceLayer(), ReferenceLayer());

        h.Step();

        Assert.Equal(0.03f, h.Gradient(0, 0)[0], 1e-8);
        Assert.Equal(.3f, h.Gradient(1, 0)[0]);
        Assert.Equal(.1f, h.Gradient(1, 1)[0]);
    }

    [Fact]
    public void Units_within_the_bound_do_not_act()
    {
        var h = new ClippingHarness(GradientClipping.Adaptive(), [new ArrayClippingTarget.Parameter([.01f, .01f], [3, 4], Units: 1)]);

        Assert.False(h.Step().ClippingActed);
        Assert.Equal(.01f, h.Gradient(0)[0]);
    }
}
