namespace GradientDiagnostics.Tests.Clipping;

public sealed class AutoClipClippingTests
{
    [Fact]
    public void Reference_norms_1_2_3_4_10_give_the_published_percentiles_and_coefficients()
    {
        var h = new ClippingHarness(GradientClipping.AutoClip(10), ClippingHarness.Layer(0));
        double[] norms = [1, 2, 3, 4, 10];
        double[] coefficients = [0.999999, 0.5499997, 0.3999999, 0.3249999, 0.1399999860];

        for (int i = 0; i < norms.Length; i++)
        {
            GradientStepResult result = h.Step([(float)norms[i]]);

            Assert.Equal(norms[i], result.NormBeforeClipping!.Value, 1e-12);
            Assert.Equal(coefficients[i], result.ClippingCoefficient, i == 4 ? 1e-10 : 1e-7);
            Assert.Equal(norms[i] * coefficients[i], h.Gradient(0)[0], 1e-5);
        }
    }

    [Theory]
    [InlineData(10, 1.4)]
    [InlineData(50, 3.0)]
    [InlineData(90, 7.6)]
    [InlineData(0, 1.0)]
    [InlineData(100, 10.0)]
    public void Percentile_interpolates_linearly_as_numpy(double percentile, double expected) =>
        Assert.Equal(expected, AutoClipPolicy.Percentile([1, 2, 3, 4, 10], percentile), 1e-12);

    [Fact]
    public void Window_bounds_the_history_to_the_latest_norms()
    {
        var h = new ClippingHarness(GradientClipping.AutoClip(0, window: 2), ClippingHarness.Layer(0));
        h.Step([1f]);
        h.Step([5f]);

        // History [5, 6]: the 1 has left the window, so the 0th percentile is 5, not 1.
        GradientStepResult result = h.Step([6f]);

        Assert.Equal(5 / 6.000001, result.ClippingCoefficient, 1e-12);
    }

    [Fact]
    public void Each_monitor_keeps_its_own_history_when_they_share_one_policy()
    {
        GradientClipping shared = GradientClipping.AutoClip(10);
        var a = new ClippingHarness(shared, ClippingHarness.Layer(0));
        var b = new ClippingHarness(shared, ClippingHarness.Layer(0));
        a.Step([1f]);
        a.Step([1f]);

        GradientStepResult first = b.Step([10f]);

        Assert.Equal(10 / 10.000001, first.ClippingCoefficient, 1e-12);
    }

    [Fact]
    public void Non_finite_steps_do_not_enter_the_history()
    {
        var h = new ClippingHarness(GradientClipping.AutoClip(0), ClippingHarness.Layer(0));
        h.Step([4f]);
        h.Step([float.NaN]);

        GradientStepResult result = h.Step([8f]);

        Assert.Equal(4 / 8.000001, result.ClippingCoefficient, 1e-12);
    }
}
