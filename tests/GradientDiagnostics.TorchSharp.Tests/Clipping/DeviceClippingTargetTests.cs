using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Clipping;

/// <summary>How the adapter applies a scaling: small dense CPU gradients through their span, large ones with <c>mul_</c>.</summary>
public sealed class DeviceClippingTargetTests
{
    [Fact]
    public void Scaling_small_and_large_gradients_equals_mul_by_the_coefficient_bit_for_bit()
    {
        // Linear(200, 200): a 40,000-element weight (above the span limit, scaled by mul_) and a 200-element bias (below it,
        // scaled through its span); Linear(200, 8) adds two more small tensors.
        manual_seed(11);
        using var model = nn.Sequential(("big", nn.Linear(200, 200)), ("relu", nn.ReLU()), ("small", nn.Linear(200, 8)));
        using (var x = randn(32, 200))
        using (var loss = model.call(x).square().mean().mul(1000))
        {
            loss.backward();
        }

        Parameter[] parameters = [.. model.parameters()];
        Assert.Contains(parameters, p => p.numel() >= DeviceClippingTarget.SpanScaleMaxElements);
        Assert.Contains(parameters, p => p.numel() < DeviceClippingTarget.SpanScaleMaxElements);
        Tensor[] original = [.. parameters.Select(p => { using Tensor g = p.grad!; return g.clone(); })];
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(0.01));

        GradientStepResult result = monitor.Step();

        Assert.True(result.ClippingActed);
        Assert.True(result.ClippingCoefficient < 1);
        foreach ((Parameter p, Tensor before) in parameters.Zip(original))
        {
            using Tensor expected = before.mul(result.ClippingCoefficient);
            using Tensor actual = p.grad!;
            Assert.True(actual.eq(expected).all().item<bool>(), $"{p.numel()}-element gradient differs from mul_ by the coefficient");
            before.Dispose();
        }
    }

    [Fact]
    public void A_coefficient_of_one_leaves_every_gradient_untouched()
    {
        manual_seed(12);
        using var model = nn.Sequential(("a", nn.Linear(16, 16)), ("b", nn.Linear(16, 4)));
        using (var x = randn(8, 16))
        using (var loss = model.call(x).square().mean())
        {
            loss.backward();
        }

        Tensor[] original = [.. model.parameters().Select(p => { using Tensor g = p.grad!; return g.clone(); })];
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(1e6));

        GradientStepResult result = monitor.Step();

        Assert.False(result.ClippingActed);
        Assert.Equal(1, result.ClippingCoefficient);
        foreach ((Parameter p, Tensor before) in model.parameters().Zip(original))
        {
            using Tensor actual = p.grad!;
            Assert.True(actual.eq(before).all().item<bool>());
            before.Dispose();
        }
    }
}
