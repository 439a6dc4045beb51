using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Precision;

/// <summary>Issue 21 "Preflight": CheckGradientFlow's float32 pass predicts what float16 does to each layer's gradients,
/// and its recommended loss-scale range is confirmed by float16 runs of the same model: inside it, no overflow and under
/// 1% underflow in every layer; above it, overflow.</summary>
public sealed class Float16PreflightTests(ITestOutputHelper output)
{
    /// <summary>A loss small enough that float16 gradients underflow at scale 1 (the case loss scaling exists for).</summary>
    private const double LossFactor = 1e-3;

    [Fact]
    public void The_recommended_range_is_confirmed_by_float16_runs_inside_and_above_it()
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(ScalarType.Float32);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(ScalarType.Float32);

        Float16GradientCheck check = model.CheckGradientFlow(() => Loss(model, input, target, 1)).Float16;

        Assert.True(check.MinLossScale is double && check.MaxLossScale is double, "no range was recommended");
        double min = check.MinLossScale!.Value, max = check.MaxLossScale!.Value;
        Assert.True(min > 1 && min <= max, $"range [{min}, {max}]");
        Assert.Contains(check.Layers, l => l.UnderflowFraction + l.SubnormalFraction > Float16GradientCheck.UnderflowTolerance);
        double inside = Math.Pow(2, Math.Round((Math.Log2(min) + Math.Log2(max)) / 2));

        model.to(ScalarType.Float16);
        Tensor input16 = input.to(ScalarType.Float16), target16 = target.to(ScalarType.Float16);
        using var monitor = model.AttachGradientMonitor();
        GradientStepResult atInside = monitor.Step(Backward(model, input16, target16, inside));
        GradientStepResult above = monitor.Step(Backward(model, input16, target16, 2 * max));

        Assert.All(atInside.Layers, l =>
        {
            Assert.True(l.Gradient.IsFinite, $"{l.Name} overflowed at scale {inside} in [{min}, {max}]");
            Assert.True(l.UnderflowFraction < 0.01, $"{l.Name}: {l.UnderflowFraction} underflow at scale {inside} in [{min}, {max}]");
        });
        output.WriteLine($"range [{min}, {max}]; at 1: {string.Join(", ", check.Layers.Select(l => $"{l.Name} flush {l.UnderflowFraction:G3} subnormal {l.SubnormalFraction:G3}"))}");
        output.WriteLine($"float16 at {inside}: {string.Join(", ", atInside.Layers.Select(l => $"{l.Name} underflow {l.UnderflowFraction:G3} headroom {l.OverflowHeadroomBits:G3} bits"))}");
        output.WriteLine($"float16 at {2 * max}: {string.Join(", ", above.Layers.Select(l => $"{l.Name} non-finite {l.Gradient.NonFiniteCount} of {l.Gradient.ElementCount}"))}");
        Assert.Contains(above.Layers, l => !l.Gradient.IsFinite);
    }

    [Fact]
    public void Flush_and_subnormal_fractions_equal_a_float16_conversion_counted_with_TorchSharp_ops()
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(ScalarType.Float32);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(ScalarType.Float32);

        GradientFlowCheckResult result = model.CheckGradientFlow(() => Loss(model, input, target, 1e-2));

        Loss(model, input, target, 1e-2).backward();
        bool someFlushed = false;
        foreach (Float16LayerCheck layer in result.Float16.Layers)
        {
            Tensor flat = cat([.. SixteenBitModels.Gradients(model, layer.Name).Select(g => g.reshape(-1))]);
            Tensor stored = flat.to(ScalarType.Float16).to(ScalarType.Float32);
            Tensor nonzero = flat.ne(0);
            double n = flat.numel();
            double flushed = (stored.eq(0) & nonzero).sum().item<long>() / n;
            double subnormal = (stored.ne(0) & stored.abs().lt(Math.Pow(2, -14))).sum().item<long>() / n;
            Assert.Equal(flushed, layer.UnderflowFraction, 15);
            Assert.Equal(subnormal, layer.SubnormalFraction, 15);
            someFlushed |= flushed > 0;
        }

        Assert.True(someFlushed, "no gradient element would flush to 0: the test does not test the flush count");
    }

    private static Tensor Loss(nn.Module<Tensor, Tensor> model, Tensor input, Tensor target, double scale) =>
        nn.functional.mse_loss(model.call(input), target, nn.Reduction.Sum) * (LossFactor * scale);

    private static Tensor Backward(nn.Module<Tensor, Tensor> model, Tensor input, Tensor target, double scale)
    {
        model.zero_grad();
        Tensor loss = Loss(model, input, target, scale);
        loss.backward();
        return loss;
    }
}
