using Xunit.Abstractions;

namespace GradientDiagnostics.TorchSharp.Tests.Recovery;

/// <summary>The acceptance scenario: a burst of five batches with inputs scaled by 100 at step 150 of 260.</summary>
public sealed class BurstRecoveryTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_burst_that_ruins_an_unprotected_run_is_refused_and_the_final_loss_matches_a_clean_run(bool adam)
    {
        var scenario = new BurstTraining.Scenario(adam);
        BurstTraining.Outcome clean = BurstTraining.Run(scenario with { BurstLength = 0 }, recovery: null);
        BurstTraining.Outcome unprotected = BurstTraining.Run(scenario, recovery: null);
        BurstTraining.Outcome recovered = BurstTraining.Run(scenario, recovery: _ => { });
        output.WriteLine($"{(adam ? "Adam" : "SGD+momentum")}: clean {clean.FinalLoss:G4}, unprotected {unprotected.FinalLoss:G4} (before the burst {unprotected.PreBurstLoss:G4}), recovered {recovered.FinalLoss:G4}");
        foreach (GradientAlert alert in clean.Alerts)
        {
            output.WriteLine($"clean run: {alert}");
        }

        // Unprotected: the loss stays far above its pre-burst level, or is no longer finite.
        Assert.True(!double.IsFinite(unprotected.FinalLoss) || unprotected.FinalLoss > 5 * unprotected.PreBurstLoss,
            $"the burst did not ruin the unprotected run: {unprotected.FinalLoss} vs {unprotected.PreBurstLoss} before it");
        Assert.InRange(recovered.FinalLoss, 0, 1.5 * clean.FinalLoss);

        // Each corrupted (finite, spiking) step was refused, and each refusal is a Recovery alert at that step.
        for (int step = 0; step < scenario.Steps; step++)
        {
            GradientStepResult result = recovered.Results[step];
            Assert.Equal(BurstTraining.IsCorrupted(scenario, step), result.SkipStep);
            Assert.True(double.IsFinite(result.GlobalNorm));
            Assert.Null(result.RolledBackToStep);
            GradientAlert[] recovery = [.. result.Alerts.Where(a => a.Kind == GradientAlertKind.Recovery)];
            Assert.Equal(result.SkipStep ? 1 : 0, recovery.Length);
            Assert.All(recovery, a => Assert.Equal(GradientAlertSeverity.Warning, a.Severity));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_rollback_restores_parameters_and_optimizer_state_bit_exactly(bool adam)
    {
        // Two failing steps in a row roll back, so the five-step burst rolls back twice: to step 140, then to 120.
        var snapshots = new Dictionary<int, Tensors>();
        var rollbacks = new List<(long Step, long To)>();
        var scenario = new BurstTraining.Scenario(adam, Steps: 170);
        BurstTraining.Outcome outcome = BurstTraining.Run(scenario, o => (o.SnapshotInterval, o.RollbackAfterFailingSteps) = (20, 2), (step, result, model, optimizer) =>
        {
            if (result.RolledBackToStep is long to)
            {
                // The state now must be the state Step() saw at step `to`, before that step's update.
                rollbacks.Add((result.Step, to));
                using Tensors current = Tensors.Capture(model, optimizer);
                current.AssertEqual(snapshots[(int)to]);
            }

            // After optimizer.step() of `step`: this is the state the next Step() sees.
            snapshots[step + 1] = Tensors.Capture(model, optimizer);
            if (snapshots.Remove(step - 60, out Tensors? old))
            {
                old.Dispose();
            }
        });

        foreach (Tensors kept in snapshots.Values)
        {
            kept.Dispose();
        }

        Assert.Equal([(151L, 140L), (153L, 120L)], rollbacks);
        Assert.All(outcome.Results.Where(r => r.RolledBackToStep is not null), r => Assert.True(r.SkipStep));
        Assert.Equal(2, outcome.Alerts.Count(a => a.Kind == GradientAlertKind.Recovery && a.Metric == GradientMetricNames.ConsecutiveFailingSteps));
    }

    /// <summary>Clones of a model's parameters and buffers and of the optimizer's state tensors (SGD's momentum buffer,
    /// Adam's exp_avg and exp_avg_sq) with Adam's step counts.</summary>
    private sealed class Tensors : IDisposable
    {
        private readonly List<torch.Tensor> _tensors = [];
        private readonly List<long> _steps = [];

        public static Tensors Capture(torch.nn.Module model, torch.optim.Optimizer optimizer)
        {
            var captured = new Tensors();
            using var noGrad = torch.no_grad();
            foreach (torch.Tensor t in model.parameters().Concat(model.buffers()))
            {
                captured._tensors.Add(t.detach().clone().DetachFromDisposeScope());
            }

            foreach (var state in ((global::TorchSharp.Modules.OptimizerHelper)optimizer).state_dict().State)
            {
                switch (state)
                {
                    case global::TorchSharp.Modules.Adam.State a:
                        captured._tensors.Add(a.exp_avg.clone().DetachFromDisposeScope());
                        captured._tensors.Add(a.exp_avg_sq.clone().DetachFromDisposeScope());
                        captured._steps.Add(a.step);
                        break;
                    case global::TorchSharp.Modules.SGD.State s:
                        Assert.NotNull(s.momentum_buffer);
                        captured._tensors.Add(s.momentum_buffer.clone().DetachFromDisposeScope());
                        break;
                    default:
                        throw new InvalidOperationException(state.GetType().Name);
                }
            }

            return captured;
        }

        public void AssertEqual(Tensors expected)
        {
            Assert.Equal(expected._steps, _steps);
            Assert.Equal(expected._tensors.Count, _tensors.Count);
            for (int i = 0; i < _tensors.Count; i++)
            {
                // torch.equal compares element-wise in TorchSharp 0.107; every element must match (the states are finite).
                Assert.Equal(expected._tensors[i].shape, _tensors[i].shape);
                Assert.True(torch.equal(expected._tensors[i], _tensors[i]).all().item<bool>(), $"tensor {i} differs from the snapshot");
            }
        }

        public void Dispose() => _tensors.ForEach(t => t.Dispose());
    }
}
