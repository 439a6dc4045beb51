using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.MixedPrecision;

/// <summary>The dynamic scaler follows GradScaler's rule step by step, and an overflow step changes nothing
/// (issue 21, "The scaler is exact").</summary>
public sealed class LossScalerTests
{
    [Fact]
    public void Loss_scale_sequence_with_injected_overflows_equals_GradScalers_rule_step_by_step()
    {
        const int steps = 24;
        HashSet<int> overflows = [2, 3, 9, 10, 11, 17];
        using var model = SixteenBitRun.Model(31).half();
        using GradientMonitor monitor = model.AttachGradientMonitor();
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Dynamic(initialScale: 1024, growthFactor: 2, backoffFactor: 0.5, growthInterval: 3));
        using var optimizer = optim.SGD(mp.MasterParameters, 1e-3);
        var reference = new GradScalerReference(1024, 2, 0.5f, 3);
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Assert.Equal(reference.Scale, mp.LossScale);
            GradientUnitTests.Backward(model, mp, 31);
            if (overflows.Contains(step))
            {
                InjectInfinity(model);
            }

            GradientStepResult result = monitor.Step();

            Assert.Equal(reference.Scale, result.LossScale);
            Assert.Equal(overflows.Contains(step), result.SkipStep);
            reference.Update(foundInf: overflows.Contains(step));
            if (!result.SkipStep)
            {
                mp.Step(optimizer);
            }
        }

        Assert.Equal(reference.Scale, mp.LossScale);
        Assert.Equal(reference.GrowthTracker, mp.SaveScalerState().CleanSteps);
    }

    [Fact]
    public void An_overflow_step_leaves_masters_and_model_bit_identical_and_backs_off()
    {
        using var model = SixteenBitRun.Model(32).half();
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(0.1));
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision();
        using var optimizer = optim.Adam(mp.MasterParameters, 1e-3);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            GradientUnitTests.Backward(model, mp, 32);
            if (!monitor.Step().SkipStep)
            {
                mp.Step(optimizer);
            }
        }

        optimizer.zero_grad();
        Tensor[] modelBefore = [.. model.parameters().Select(p => p.detach().clone())];
        Tensor[] mastersBefore = [.. mp.MasterParameters.Select(p => p.detach().clone())];
        Tensor?[] masterGradsBefore = [.. mp.MasterParameters.Select(p => { using Tensor? g = p.grad; return g?.clone(); })];
        double scale = mp.LossScale;
        GradientUnitTests.Backward(model, mp, 32);
        InjectInfinity(model);

        GradientStepResult overflow = monitor.Step();

        Assert.True(overflow.SkipStep);
        Assert.False(overflow.ClippingActed);
        Assert.Equal(scale, overflow.LossScale);
        Assert.Equal(scale / 2, mp.LossScale);
        Assert.All(mp.MasterParameters.Zip(masterGradsBefore), p =>
        {
            // Nothing was written into the masters' gradients (zero_grad() left them null or zero).
            using Tensor? after = p.First.grad;
            Assert.Equal(p.Second is null, after is null);
            Assert.True(p.Second is null || after!.eq(p.Second).all().item<bool>());
        });
        Assert.All(model.parameters().Zip(modelBefore), p => Assert.True(p.First.detach().eq(p.Second).all().item<bool>()));
        Assert.All(mp.MasterParameters.Zip(mastersBefore), p => Assert.True(p.First.detach().eq(p.Second).all().item<bool>()));
        Assert.All(model.parameters(), p => Assert.Null(p.grad)); // the overflowing gradients do not leak into the next step
    }

    [Fact]
    public void Scaler_state_saved_with_a_checkpoint_restores_into_a_new_run()
    {
        using var model = SixteenBitRun.Model(33).half();
        using GradientMonitor monitor = model.AttachGradientMonitor();
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Dynamic(initialScale: 256, growthInterval: 4));
        for (int step = 0; step < 6; step++)
        {
            using var scope = NewDisposeScope();
            GradientUnitTests.Backward(model, mp, 33);
            monitor.Step();
        }

        LossScalerState saved = mp.SaveScalerState();
        Assert.Equal(new LossScalerState(512, 2), saved);

        using var model2 = SixteenBitRun.Model(33).half();
        using GradientMonitor monitor2 = model2.AttachGradientMonitor();
        MixedPrecisionTraining restored = monitor2.EnableMixedPrecision(o => o.LossScaling = LossScaling.Dynamic(initialScale: 256, growthInterval: 4));
        restored.RestoreScalerState(saved);
        Assert.Equal(saved, restored.SaveScalerState());
        for (int step = 0; step < 2; step++)
        {
            using var scope = NewDisposeScope();
            GradientUnitTests.Backward(model2, restored, 33);
            Assert.Equal(512, monitor2.Step().LossScale);
        }

        Assert.Equal(new LossScalerState(1024, 0), restored.SaveScalerState()); // grew after the 4th clean step in a row
        Assert.Throws<ArgumentOutOfRangeException>(() => restored.RestoreScalerState(new LossScalerState(0, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => restored.RestoreScalerState(new LossScalerState(2, -1)));
    }

    internal static void InjectInfinity(nn.Module<Tensor, Tensor> model)
    {
        using Tensor grad = model.parameters().Last().grad!;
        grad.fill_(double.PositiveInfinity);
    }

    /// <summary>GradScaler's <c>_amp_update_scale_</c>, written again from its documentation for the test: the scale in
    /// float32, backoff and reset on inf, growth when the tracker reaches the interval unless the product is infinite.</summary>
    private sealed class GradScalerReference(float scale, float growth, float backoff, int interval)
    {
        public float Scale { get; private set; } = scale;

        public int GrowthTracker { get; private set; }

        public void Update(bool foundInf)
        {
            if (foundInf)
            {
                Scale *= backoff;
                GrowthTracker = 0;
                return;
            }

            int successful = GrowthTracker + 1;
            if (successful == interval)
            {
                float grown = Scale * growth;
                if (!float.IsInfinity(grown))
                {
                    Scale = grown;
                }

                GrowthTracker = 0;
            }
            else
            {
                GrowthTracker = successful;
            }
        }
    }
}
