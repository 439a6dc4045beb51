using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.MixedPrecision;

/// <summary>Mixed precision with what is there (issue 21, item 7): recovery, sparse gradients, moved models, leaks.</summary>
public sealed class MixedPrecisionIntegrationTests
{
    [Fact]
    public void Overflows_under_dynamic_scaling_are_not_failing_steps_for_recovery()
    {
        using var model = SixteenBitRun.Model(41).half();
        using GradientMonitor monitor = model.AttachGradientMonitor();
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision();
        using var optimizer = optim.Adam(mp.MasterParameters, 1e-3);
        monitor.EnableRecovery(optimizer, o => { o.SnapshotInterval = 2; o.RollbackAfterFailingSteps = 3; });
        var results = new List<GradientStepResult>();
        for (int step = 0; step < 16; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            GradientUnitTests.Backward(model, mp, 41);
            if (step is >= 4 and < 12)
            {
                LossScalerTests.InjectInfinity(model); // 8 overflows in a row: more than RollbackAfterFailingSteps
            }

            GradientStepResult result = monitor.Step();
            results.Add(result);
            if (!result.SkipStep)
            {
                mp.Step(optimizer);
            }
        }

        Assert.All(results, r => Assert.Null(r.RolledBackToStep));
        Assert.DoesNotContain(results.SelectMany(r => r.Alerts), a => a.Kind == GradientAlertKind.Recovery);
        Assert.Equal(65536 / 256.0, mp.LossScale); // backed off 8 times
    }

    [Fact]
    public void A_rollback_restores_the_masters_and_the_scaler_of_the_snapshot()
    {
        using var model = SixteenBitRun.Model(42).half();
        using GradientMonitor monitor = model.AttachGradientMonitor();
        // The scale doubles at every clean step, so the scaler's state differs at every step.
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Dynamic(initialScale: 2, growthInterval: 1));
        using var optimizer = optim.Adam(mp.MasterParameters, 1e-2);
        monitor.EnableRecovery(optimizer, o => { o.SnapshotInterval = 3; o.RollbackAfterFailingSteps = 3; });
        var masters = new Dictionary<long, Tensor[]>();
        var scalers = new Dictionary<long, LossScalerState>();
        GradientStepResult? rolledBack = null;
        for (int step = 0; step < 14 && rolledBack is null; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            GradientUnitTests.Backward(model, mp, 42);
            // From step 10 the loss is NaN while the gradients stay finite: failing steps that are not overflows.
            using Tensor loss = tensor(step >= 10 ? float.NaN : 1f);
            masters[step] = [.. mp.MasterParameters.Select(p => p.detach().clone().MoveToOuterDisposeScope())];
            GradientStepResult result = monitor.Step(loss);
            scalers[step] = mp.SaveScalerState();
            if (result.RolledBackToStep is not null)
            {
                rolledBack = result;
            }
            else if (!result.SkipStep)
            {
                mp.Step(optimizer);
            }
        }

        Assert.NotNull(rolledBack);
        long target = rolledBack.RolledBackToStep!.Value;
        Assert.All(mp.MasterParameters.Zip(masters[target]), p => Assert.True(p.First.detach().eq(p.Second).all().item<bool>()));
        Assert.Equal(scalers[target], mp.SaveScalerState());
        Assert.NotEqual(scalers[rolledBack.Step - 1], mp.SaveScalerState()); // the scale had grown since the snapshot
    }

    [Fact]
    public void Sparse_embedding_gradients_reach_the_masters_unscaled_and_clipped()
    {
        using var generator = new Generator(43);
        using var model = nn.Sequential(("embed", nn.Embedding(50, 8, sparse: true)), ("head", nn.Linear(8, 1))).half();
        const double scale = 256, maxNorm = 1e-3;
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(maxNorm));
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Static(scale));
        using var optimizer = optim.SGD(mp.MasterParameters, 0.1);
        using Tensor tokens = randint(0, 50, [16], generator: generator);
        using (var scope = NewDisposeScope())
        {
            mp.ScaleLoss(model.call(tokens).to_type(ScalarType.Float32).square().mean()).backward();
        }

        using Tensor embedGrad = model.parameters().First().grad!;
        Assert.True(embedGrad.is_sparse);
        using Tensor dense16 = embedGrad.to_dense().to_type(ScalarType.Float64);

        GradientStepResult result = monitor.Step();

        Assert.True(result.ClippingActed);
        using Tensor masterGrad = mp.MasterParameters[0].grad!;
        Assert.True(masterGrad.is_sparse);
        using Tensor expected = dense16 * (result.ClippingCoefficient / scale);
        using Tensor actual = masterGrad.to_dense().to_type(ScalarType.Float64);
        Assert.True(actual.allclose(expected, rtol: 1e-6, atol: 0), "sparse master gradient differs from g16 × c / S");
        Tensor before = mp.MasterParameters[0].detach().clone();
        mp.Step(optimizer);
        Assert.False(mp.MasterParameters[0].detach().eq(before).all().item<bool>());
        before.Dispose();
    }

    [Fact]
    public void A_model_moved_to_another_16_bit_dtype_after_enabling_keeps_its_masters()
    {
        using var model = SixteenBitRun.Model(44).half();
        using GradientMonitor monitor = model.AttachGradientMonitor();
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Static(64));
        using var optimizer = optim.SGD(mp.MasterParameters, 1e-2);
        model.to(ScalarType.BFloat16);
        double[][] g16 = GradientUnitTests.Backward(model, mp, 44);

        monitor.Step();

        GradientUnitTests.AssertMastersEqual(mp, g16, g => g / 64);
        mp.Step(optimizer);
        Assert.All(model.parameters().Zip(mp.MasterParameters), p =>
        {
            Assert.Equal(ScalarType.BFloat16, p.First.dtype);
            using Tensor rounded = p.Second.detach().to_type(ScalarType.BFloat16);
            Assert.True(p.First.detach().eq(rounded).all().item<bool>()); // the model holds the masters rounded to nearest
        });
    }

    [Fact]
    public void Mixed_precision_steps_leave_no_live_tensors()
    {
        using var model = SixteenBitRun.Model(45).half();
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(0.5));
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision();
        using var optimizer = optim.Adam(mp.MasterParameters, 1e-3);
        long live = 0;
        for (int step = 0; step < 40; step++)
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                GradientUnitTests.Backward(model, mp, 45);
                if (step % 7 == 3)
                {
                    LossScalerTests.InjectInfinity(model);
                }

                if (!monitor.Step().SkipStep)
                {
                    mp.Step(optimizer);
                }
            }

            if (step == 9)
            {
                live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }
        }

        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void With_trace_origin_an_overflow_is_skipped_and_clean_steps_train()
    {
        using var model = SixteenBitRun.Model(47).half();
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.NonFinite.TraceOrigin = true);
        MixedPrecisionTraining mp = monitor.EnableMixedPrecision();
        using var optimizer = optim.Adam(mp.MasterParameters, 1e-3);
        var results = new List<GradientStepResult>();
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            GradientUnitTests.Backward(model, mp, 47);
            if (step == 1)
            {
                LossScalerTests.InjectInfinity(model);
            }

            GradientStepResult result = monitor.Step();
            results.Add(result);
            if (!result.SkipStep)
            {
                mp.Step(optimizer);
            }
        }

        Assert.Equal([false, true, false, false], results.Select(r => r.SkipStep));
        Assert.Equal([65536.0, 65536, 32768, 32768], results.Select(r => r.LossScale));
        Assert.All(model.parameters(), p => Assert.True(isfinite(p).all().item<bool>()));
    }

    [Fact]
    public void Enabling_twice_or_after_recovery_is_refused()
    {
        using var model = SixteenBitRun.Model(46).half();
        using GradientMonitor monitor = model.AttachGradientMonitor();
        using var optimizer = optim.SGD(model.parameters(), 1e-3);
        monitor.EnableRecovery(optimizer);
        Assert.Throws<InvalidOperationException>(() => monitor.EnableMixedPrecision());
        using var model2 = SixteenBitRun.Model(46).half();
        using GradientMonitor monitor2 = model2.AttachGradientMonitor();
        monitor2.EnableMixedPrecision();
        Assert.Throws<InvalidOperationException>(() => monitor2.EnableMixedPrecision());
        Assert.Throws<ArgumentOutOfRangeException>(() => LossScaling.Dynamic(growthFactor: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LossScaling.Static(double.PositiveInfinity));
    }
}
