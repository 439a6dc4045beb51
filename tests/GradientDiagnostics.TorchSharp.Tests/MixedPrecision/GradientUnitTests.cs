using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.MixedPrecision;

/// <summary>Statistics and clipping are in unscaled units, and the masters' gradients are g₁₆ × coefficient / S
/// (issue 21, "Units are right").</summary>
public sealed class GradientUnitTests
{
    private const double Scale = 1024;

    [Fact]
    public void Global_norm_is_the_16_bit_gradient_norm_over_the_scale()
    {
        using var model = SixteenBitRun.Model(21).half();
        using GradientMonitor monitor = model.AttachGradientMonitor();
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Static(Scale));
        double[][] g16 = Backward(model, mp, 21);

        GradientStepResult result = monitor.Step();

        double expected = Math.Sqrt(g16.SelectMany(g => g).Sum(v => v * v)) / Scale;
        Assert.Equal(Scale, result.LossScale);
        Assert.InRange(Math.Abs(result.GlobalNorm - expected) / expected, 0, 1e-3);
        Assert.All(mp.MasterParameters, m => Assert.NotNull(m.grad));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the device path: copy_ into the flat fp32 buffer, then one mul_ by c / S for the whole buffer
    public void By_global_norm_clips_the_unscaled_norm_and_writes_g16_times_coefficient_over_scale_into_the_masters(bool devicePath)
    {
        using var model = SixteenBitRun.Model(22).half();
        const double maxNorm = 0.05;
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(maxNorm));
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Static(Scale));
        double[][] g16 = Backward(model, mp, 22);

        GradientStepResult result;
        using (DevicePathSwitch.Set(devicePath))
        {
            result = monitor.Step();
        }

        Assert.True(result.ClippingActed, $"the unscaled norm {result.GlobalNorm} should be above {maxNorm}");
        Assert.True(result.GlobalNorm > maxNorm);
        double mastersNorm = Math.Sqrt(mp.MasterParameters.Sum(m => { using Tensor g = m.grad!; return g.to_type(ScalarType.Float64).square().sum().item<double>(); }));
        Assert.True(mastersNorm <= maxNorm * (1 + 1e-6), $"masters' gradient norm {mastersNorm} exceeds {maxNorm}");
        AssertMastersEqual(mp, g16, g => g * result.ClippingCoefficient / Scale);
        Assert.All(model.parameters(), p => Assert.Null(p.grad)); // the 16-bit gradients were consumed
    }

    [Fact]
    public void By_value_clamps_in_unscaled_units_on_the_masters()
    {
        using var model = SixteenBitRun.Model(23).half();
        using GradientMonitor monitor = model.AttachGradientMonitor();
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Static(Scale));
        double[][] g16 = Backward(model, mp, 23);
        double clampAt = g16.SelectMany(g => g).Max(Math.Abs) / Scale / 4; // a quarter of the largest unscaled element
        using var model2 = SixteenBitRun.Model(23).half();
        using GradientMonitor clipped = model2.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByValue(clampAt));
        MixedPrecisionTraining mp2 = clipped.EnableMixedPrecision(o => o.LossScaling = LossScaling.Static(Scale));
        double[][] g16Again = Backward(model2, mp2, 23);
        Assert.Equal(g16.SelectMany(g => g), g16Again.SelectMany(g => g));

        GradientStepResult result = clipped.Step();

        Assert.True(result.ClippingActed);
        AssertMastersEqual(mp2, g16, g => Math.Clamp(g / Scale, -clampAt, clampAt));
    }

    [Fact]
    public void Adaptive_clipping_bounds_each_masters_unit_by_the_masters_weight_norm()
    {
        using var model = SixteenBitRun.Model(25).half();
        const double lambda = 1e-3;
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.Adaptive(lambda));
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Static(Scale));
        double[][] g16 = Backward(model, mp, 25);

        GradientStepResult result = monitor.Step();

        Assert.True(result.ClippingActed);
        bool clippedOne = false;
        for (int k = 0; k < mp.MasterParameters.Count; k++)
        {
            Parameter master = mp.MasterParameters[k];
            using Tensor grad = master.grad!;
            using Tensor weight = master.detach();
            long[]? dims = grad.dim() <= 1 ? null : [1];
            using Tensor gradNorm = linalg.vector_norm(grad.to_type(ScalarType.Float64), 2, dims);
            using Tensor bound = linalg.vector_norm(weight.to_type(ScalarType.Float64), 2, dims).clamp_min(1e-3).mul(lambda);
            Assert.True(gradNorm.le(bound.mul(1 + 1e-5)).all().item<bool>(), $"master {k}: a unit's gradient norm exceeds λ·‖W‖");
            using Tensor unscaled = tensor(g16[k]).reshape(grad.shape).div(Scale);
            using Tensor unscaledNorm = linalg.vector_norm(unscaled, 2, dims);
            clippedOne |= unscaledNorm.gt(bound.mul(1.01)).any().item<bool>();
        }

        Assert.True(clippedOne, "some unit's unscaled gradient should have been above the bound");
    }

    [Fact]
    public void Masters_gradients_equal_an_fp64_reference_without_clipping()
    {
        using var model = SixteenBitRun.Model(24).to(ScalarType.BFloat16);
        using GradientMonitor monitor = model.AttachGradientMonitor();
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Static(Scale));
        double[][] g16 = Backward(model, mp, 24);

        monitor.Step();

        AssertMastersEqual(mp, g16, g => g / Scale);
    }

    /// <summary>One scaled backward; returns every 16-bit gradient as doubles, in the masters' (the model's) order.</summary>
    internal static double[][] Backward(nn.Module<Tensor, Tensor> model, MixedPrecisionTraining mp, long seed)
    {
        using var scope = NewDisposeScope();
        (Tensor x, Tensor y) = SixteenBitRun.Data(seed);
        ScalarType dtype = model.parameters().First().dtype;
        Tensor loss = nn.functional.mse_loss(model.call(x.to_type(dtype)).to_type(ScalarType.Float32), y);
        mp.ScaleLoss(loss).backward();
        return [.. model.parameters().Select(p => { using Tensor g = p.grad!; return g.to_type(ScalarType.Float64).flatten().data<double>().ToArray(); })];
    }

    /// <summary>Each master gradient element equals the fp64 reference rounded once to fp32, within 2 fp32 ulps (the
    /// factor c / S is rounded to fp32, then the product).</summary>
    internal static void AssertMastersEqual(MixedPrecisionTraining mp, double[][] g16, Func<double, double> reference)
    {
        Assert.Equal(g16.Length, mp.MasterParameters.Count);
        for (int k = 0; k < g16.Length; k++)
        {
            Parameter master = mp.MasterParameters[k];
            using Tensor grad = master.grad!;
            Assert.Equal(ScalarType.Float32, grad.dtype);
            float[] actual = grad.flatten().data<float>().ToArray();
            for (int e = 0; e < actual.Length; e++)
            {
                double expected = reference(g16[k][e]);
                double tolerance = 2 * Math.Abs(expected) * Math.Pow(2, -24) + float.Epsilon;
                Assert.True(Math.Abs(actual[e] - expected) <= tolerance, $"master {k} element {e}: {actual[e]:R} vs fp64 {expected:R}");
            }
        }
    }
}
