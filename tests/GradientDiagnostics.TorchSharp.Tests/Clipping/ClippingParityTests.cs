using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Clipping;

/// <summary>ByGlobalNorm against TorchSharp's own <c>nn.utils.clip_grad_norm_</c>, and where the two differ on purpose.</summary>
public sealed class ClippingParityTests
{
    public static TheoryData<double, bool, int> NormTypes => new()
    {
        { 2, false, 1 }, { 1, false, 2 }, { double.PositiveInfinity, false, 3 },
        { 2, true, 4 }, { 1, true, 5 }, { double.PositiveInfinity, true, 6 }, { 3, false, 7 },
    };

    [Theory]
    [MemberData(nameof(NormTypes))]
    public void ByGlobalNorm_matches_clip_grad_norm_on_a_random_model(double normType, bool deviceGeneric, int seed)
    {
        manual_seed(seed);
        using var model = Mlp.Create(depth: 4, width: 24, Activation.Tanh, Init.Xavier);
        using (var x = randn(16, 24))
        using (var loss = model.call(x).square().mean().mul(50))
        {
            loss.backward();
        }

        Tensor[] original = [.. model.parameters().Select(p => { using var g = p.grad!; return g.clone(); })];
        double maxNorm = 0.1;
        double expectedTotal = nn.utils.clip_grad_norm_(model.parameters(), maxNorm, normType);
        Tensor[] expected = [.. model.parameters().Select(p => { using var g = p.grad!; return g.clone(); })];
        foreach ((var p, Tensor g) in model.parameters().Zip(original))
        {
            p.grad = g;
        }

        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(maxNorm, normType));
        using var devicePath = DevicePathSwitch.Set(deviceGeneric);
        GradientStepResult result = monitor.Step();

        Assert.True(expectedTotal > maxNorm, "the test must make clipping act");
        Assert.True(Math.Abs(result.NormBeforeClipping!.Value - expectedTotal) <= 1e-6 * expectedTotal, $"total {result.NormBeforeClipping} vs {expectedTotal}");
        foreach ((var p, Tensor e) in model.parameters().Zip(expected))
        {
            using var g = p.grad!;
            using var diff = (g - e).abs().max();
            using var scale = e.abs().max();
            Assert.True(diff.item<float>() <= 1e-6 * scale.item<float>(), $"max |diff| {diff.item<float>()} vs max |g| {scale.item<float>()}");
        }

        foreach (Tensor t in original.Concat(expected))
        {
            t.Dispose();
        }
    }

    [Fact]
    public void NaN_in_one_gradient_never_reaches_the_others_unlike_clip_grad_norm_()
    {
        using var ours = GradientModel.Create([("weight", [0f, 0f], [2])], [("weight", [0f], [1])]);
        using var theirs = GradientModel.Create([("weight", [0f, 0f], [2])], [("weight", [0f], [1])]);
        foreach (GradientModel m in new[] { ours, theirs })
        {
            m.SetGradient(0, "weight", 3, 4);
            m.SetGradient(1, "weight", float.NaN);
        }

        using GradientMonitor monitor = ours.Module.AttachGradientMonitor(o =>
            o.Clipping = GradientClipping.SkipNonFinite().Then(GradientClipping.Adaptive()).Then(GradientClipping.ByGlobalNorm(1)));
        GradientStepResult result = monitor.Step();
        nn.utils.clip_grad_norm_(theirs.Module.parameters(), 1.0);

        Assert.True(result.SkipStep);
        Assert.False(result.ClippingActed);
        Assert.Equal([3f, 4f], ours.Gradient(0, "weight"));
        Assert.All(theirs.Gradient(0, "weight"), v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void Clipping_a_training_step_leaks_no_native_tensors()
    {
        manual_seed(11);
        using var model = Mlp.Create(depth: 4, width: 16, Activation.ReLU, Init.He);
        // Every policy of the chain acts on every step (tiny bounds), so each on-device path runs.
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.SkipNonFinite()
            .Then(GradientClipping.ByValue(1e-3)).Then(GradientClipping.Adaptive(1e-4)).Then(GradientClipping.ByGlobalNorm(1e-6, 3)));
        Backward(model);
        monitor.Step();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            Backward(model);
            GradientStepResult result = monitor.Step();
            Assert.True(result.ClippingActed);
            Assert.True(result.ClippingCoefficient < 1);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    private static void Backward(nn.Module<Tensor, Tensor> model)
    {
        model.zero_grad();
        using var x = randn(8, 16);
        using var y = model.call(x);
        using var squared = y.square();
        using var loss = squared.mean();
        loss.backward();
    }
}
