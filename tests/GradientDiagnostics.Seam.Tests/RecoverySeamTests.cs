namespace GradientDiagnostics.Seam.Tests;

/// <summary>Recovery and activation statistics through the public seam alone: the core decides when to snapshot and
/// roll back, and this adapter applies it to its own arrays, as the TorchSharp adapter does to tensors.</summary>
public sealed class RecoverySeamTests
{
    [Fact]
    public void Non_finite_steps_roll_the_adapters_own_weights_back_to_the_newest_snapshot()
    {
        var network = new ArrayNetwork(depth: 3, width: 8, ActivationKind.ReLU, weightStd: 0.5, seed: 7);
        using var monitor = new ArrayNetworkMonitor(network);
        monitor.Analyzer.EnableRecovery(new GradientRecoveryOptions { SnapshotInterval = 2, RollbackAfterFailingSteps = 2 });
        RecoveryPolicy policy = monitor.Analyzer.Recovery!;
        var snapshots = new Dictionary<long, float[][]>();
        var decisions = new List<RecoveryDecision>();
        var before = new List<float[][]>();
        float[][] atRollback = [];

        for (int step = 0; step < 8; step++)
        {
            before.Add([.. network.Weights.Select(w => w.ToArray())]);
            // Steps 5 and 6 overflow; every other step is healthy.
            GradientStepResult result = monitor.Step(network.Backward(lossScale: step is 5 or 6 ? float.PositiveInfinity : 1));
            RecoveryDecision decision = monitor.Analyzer.LastRecovery;
            decisions.Add(decision);
            if (decision.TakeSnapshot)
            {
                snapshots[result.Step] = [.. network.Weights.Select(w => w.ToArray())];
                policy.SnapshotTaken(result.Step);
            }

            if (decision.RollBackTo is long target)
            {
                for (int l = 0; l < network.Depth; l++)
                {
                    snapshots[target][l].CopyTo(network.Weights[l], 0);
                }

                atRollback = [.. network.Weights.Select(w => w.ToArray())];
            }

            foreach (long dropped in snapshots.Keys.Except(policy.SnapshotSteps).ToList())
            {
                snapshots.Remove(dropped);
            }

            if (!result.SkipStep && !decision.SkipsStep)
            {
                network.Sgd(0.01f);
            }
        }

        Assert.Equal([0L, 2, 4], decisions.Select((d, s) => (d, s)).Where(x => x.d.TakeSnapshot).Select(x => (long)x.s));
        RecoveryDecision rollback = Assert.Single(decisions, d => d.Action == RecoveryAction.RollBack);
        Assert.Equal((6, 4L), (decisions.IndexOf(rollback), rollback.RollBackTo!.Value));
        Assert.Equal(before[4], atRollback); // the state before step 4 was applied
        Assert.NotEqual(before[6], atRollback);
        Assert.Equal([2L, 4], policy.SnapshotSteps);
        Assert.False(policy.GaveUp);
    }

    [Fact]
    public void The_public_accumulator_gives_the_adapters_observations_activation_statistics_the_detectors_read()
    {
        var accumulator = new ActivationAccumulator(ActivationKind.ReLU, measureActivity: true);
        // Two forward calls of one step (gradient accumulation): 3 units, the last never active.
        accumulator.Add([1f, -2f, -1f, 3f, 0f, -4f], units: 3, inner: 1);
        accumulator.Add([2f, 5f, -3f], units: 3, inner: 1);

        ActivationStatistics statistics = accumulator.ToStatistics()!;
        accumulator.Reset();

        Assert.Equal(9, statistics.ElementCount);
        Assert.Equal(1.0 / 9, statistics.Mean, 12);
        Assert.Equal(1.0 / 9, statistics.ZeroFraction, 12);
        Assert.Equal([1f, 1f / 3, 0f], statistics.UnitActiveFraction.ToArray());
        Assert.Null(statistics.SaturatedFraction);
        Assert.Null(accumulator.ToStatistics());
    }
}
