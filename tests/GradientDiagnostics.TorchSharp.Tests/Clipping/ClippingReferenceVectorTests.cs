namespace GradientDiagnostics.TorchSharp.Tests.Clipping;

/// <summary>The reference vectors, through the adapter, on real tensors.</summary>
public sealed class ClippingReferenceVectorTests
{
    private static GradientModel Reference(Action<GradientModel>? setGradients = null)
    {
        var model = GradientModel.Create([("weight", [0f, 0f], [2])], [("weight", [0f], [1])]);
        model.SetGradient(0, "weight", 3, 4);
        model.SetGradient(1, "weight", 12);
        setGradients?.Invoke(model);
        return model;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Global_L2_reference_vector_through_the_adapter(bool deviceGeneric)
    {
        using GradientModel model = Reference();
        using GradientMonitor monitor = model.Module.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(1));
        using var devicePath = DevicePathSwitch.Set(deviceGeneric);

        GradientStepResult result = monitor.Step();

        Assert.Equal(13, result.NormBeforeClipping!.Value, 1e-6);
        Assert.Equal(0.0769230710, result.ClippingCoefficient, 1e-10);
        Assert.Equal([0.2307692130f, 0.3076922840f], model.Gradient(0, "weight"));
        Assert.Equal([0.9230768521f], model.Gradient(1, "weight"));
        Assert.True(result.ClippingActed);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, 12, 0.0833333264)]
    [InlineData(1, 19, 1 / 19.000001)]
    [InlineData(20, 13, 1.0)]
    public void Global_norm_types_and_an_unreached_bound_through_the_adapter(double normTypeOrMaxNorm, double total, double coefficient)
    {
        bool unreached = normTypeOrMaxNorm == 20;
        using GradientModel model = Reference();
        using GradientMonitor monitor = model.Module.AttachGradientMonitor(o => o.Clipping = unreached
            ? GradientClipping.ByGlobalNorm(20)
            : GradientClipping.ByGlobalNorm(1, normTypeOrMaxNorm));

        GradientStepResult result = monitor.Step();

        Assert.Equal(total, result.NormBeforeClipping!.Value, 1e-6);
        Assert.Equal(coefficient, result.ClippingCoefficient, 1e-10);
        Assert.Equal((float)(12 * coefficient), model.Gradient(1, "weight")[0], 1e-6);
        Assert.Equal(!unreached, result.ClippingActed);
    }

    [Fact]
    public void ByValue_reference_vector_through_the_adapter()
    {
        using GradientModel model = Reference();
        using GradientMonitor monitor = model.Module.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByValue(3.5));

        GradientStepResult result = monitor.Step();

        Assert.Equal([3f, 3.5f], model.Gradient(0, "weight"));
        Assert.Equal([3.5f], model.Gradient(1, "weight"));
        Assert.Equal(Math.Sqrt(9 + 12.25 + 12.25), result.NormAfterClipping!.Value, 1e-6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Agc_reference_weight_and_bias_through_the_adapter(bool deviceGeneric)
    {
        using var model = GradientModel.Create([("weight", [3, 4, 0, 0, 6, 8], [3, 2]), ("bias", [1, -1], [2])]);
        model.SetGradient(0, "weight", .3f, .4f, .001f, 0f, .06f, 0f);
        model.SetGradient(0, "bias", .1f, .1f);
        using GradientMonitor monitor = model.Module.AttachGradientMonitor(o => o.Clipping = GradientClipping.Adaptive(0.01, 1e-3));
        using var devicePath = DevicePathSwitch.Set(deviceGeneric);

        GradientStepResult result = monitor.Step();

        float[] expected = [0.03f, 0.04f, 1e-5f, 0f, 0.06f, 0f];
        float[] weight = model.Gradient(0, "weight");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], weight[i], 1e-8);
        }

        Assert.All(model.Gradient(0, "bias"), b => Assert.Equal(0.01f, b, 1e-8));
        Assert.True(result.ClippingActed);
    }

    [Fact]
    public void Agc_on_a_conv_weight_clips_each_output_filter_as_the_cpu_reference_does()
    {
        torch.manual_seed(3);
        using var conv = torch.nn.Conv2d(2, 3, 3);
        using var x = torch.randn(4, 2, 5, 5);
        using (var loss = conv.call(x).square().sum().mul(100))
        {
            loss.backward();
        }

        // The reference, by libtorch (Brock et al. 2021, AGC): each output filter's gradient G_i is scaled by
        // min(1, λ·max(‖W_i‖, ε) / ‖G_i‖), λ = 0.01 and ε = 1e-3 (GradientClipping.Adaptive()'s defaults).
        float[] expected;
        using (var scope = torch.NewDisposeScope())
        {
            var w = conv.weight!.detach().to_type(torch.ScalarType.Float64).view(3, -1);
            var g = conv.weight!.grad!.to_type(torch.ScalarType.Float64).view(3, -1);
            var bound = w.norm(1, keepdim: true).clamp_min(1e-3).mul(0.01);
            var scale = bound.div(g.norm(1, keepdim: true)).clamp_max(1.0);
            Assert.True(scale.lt(1).any().item<bool>(), "the reference must clip at least one filter");
            expected = g.mul(scale).flatten().to_type(torch.ScalarType.Float32).data<float>().ToArray();
        }

        using GradientMonitor monitor = conv.AttachGradientMonitor(o => o.Clipping = GradientClipping.Adaptive());

        Assert.True(monitor.Step().ClippingActed);

        using var gradAfter = conv.weight!.grad!;
        float[] actual = gradAfter.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], Math.Abs(expected[i]) * 1e-5 + 1e-9);
        }
    }

    [Fact]
    public void AutoClip_reference_sequence_through_the_adapter()
    {
        using var model = GradientModel.Create([("weight", [0f], [1])]);
        using GradientMonitor monitor = model.Module.AttachGradientMonitor(o => o.Clipping = GradientClipping.AutoClip(10));
        double[] coefficients = [0.999999, 0.5499997, 0.3999999, 0.3249999, 0.1399999860];
        float[] norms = [1, 2, 3, 4, 10];

        for (int i = 0; i < norms.Length; i++)
        {
            model.SetGradient(0, "weight", norms[i]);
            GradientStepResult result = monitor.Step();
            Assert.Equal(coefficients[i], result.ClippingCoefficient, 1e-7);
            Assert.Equal(norms[i] * coefficients[i], model.Gradient(0, "weight")[0], 1e-5);
        }
    }

    [Fact]
    public void ZScore_reference_sequence_through_the_adapter()
    {
        using var model = GradientModel.Create([("weight", [0f], [1])]);
        using GradientMonitor monitor = model.Module.AttachGradientMonitor(o => o.Clipping = GradientClipping.ZScore(warmupSteps: 3));
        GradientStepResult? last = null;
        foreach (float norm in new[] { 1f, 2f, 3f, 2.5f, 10f })
        {
            model.SetGradient(0, "weight", norm);
            last = monitor.Step();
            Assert.Equal(norm == 10f, last.ClippingActed);
        }

        Assert.Equal(0.2526681, last!.ClippingCoefficient, 1e-7);
        Assert.Equal(2.5266815, model.Gradient(0, "weight")[0], 1e-5);
    }
}
