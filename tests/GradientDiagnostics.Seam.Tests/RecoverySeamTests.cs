namespace GradientDiagnostics.Seam.Tests;

/// <summary>Recovery and activation statistics through the public seam alone: the core decides when to snapshot and
/// roll back and calls this adapter's <see cref="IRecoveryTarget"/>, which applies it to its own arrays, as the TorchSharp
/// adapter does to tensors.</summary>
public sealed class RecoverySeamTests
{
    [Fact]
    public void Non_finite_steps_roll_the_adapters_own_weights_back_to_the_newest_snapshot()
    {
        var network = new ArrayNetwork(depth: 3, width: 8, ActivationKind.ReLU, weightStd: 0.5, seed: 7);
        using var monitor = new ArrayNetworkMonitor(network);
        var target = new ArrayRecoveryTarget(network, learningRate: 0.01f);
        monitor.Analyzer.EnableRecovery(new RecoveryOptions { SnapshotInterval = 2, RollbackAfterFailingSteps = 2, LearningRateFactor = 0.5 }, target);
        var before = new List<float[][]>();
        var learningRates = new List<float>();

        for (int step = 0; step < 8; step++)
        {
            before.Add([.. network.Weights.Select(w => w.ToArray())]);
            // Steps 5 and 6 overflow; every other step is healthy. The core applies recovery through the target.
            GradientStepResult result = monitor.Step(network.Backward(lossScale: step is 5 or 6 ? float.PositiveInfinity : 1));
            if (!result.SkipStep)
            {
                learningRates.Add(target.LearningRate);
                network.Sgd(target.LearningRate);
            }
        }

        // At most MaxSnapshots (2) are kept: the snapshot of step 4 is captured into the one of step 0.
        Assert.Equal(["snapshot 0", "snapshot 2", "snapshot 4 replacing 0", "rollback 4", "scale 0.5"], target.Calls);
        Assert.Equal(before[4], target.AtRollback); // the state before step 4 was applied
        Assert.NotEqual(before[6], target.AtRollback);
        Assert.Equal([2L, 4], target.Held.Order());
        Assert.Equal([0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.005f], learningRates);
    }

    [Fact]
    public void A_snapshot_the_adapter_cannot_take_is_retried_on_the_next_healthy_step_and_the_replaced_one_is_forgotten()
    {
        var network = new ArrayNetwork(depth: 3, width: 8, ActivationKind.ReLU, weightStd: 0.5, seed: 8);
        using var monitor = new ArrayNetworkMonitor(network);
        var target = new ArrayRecoveryTarget(network, learningRate: 0.01f);
        monitor.Analyzer.EnableRecovery(new RecoveryOptions { SnapshotInterval = 2 }, target);

        for (int step = 0; step < 6; step++)
        {
            target.FailCaptures = step == 4;
            Assert.False(monitor.Step(network.Backward()).SkipStep);
            network.Sgd(target.LearningRate);
        }

        Assert.Equal(["snapshot 0", "snapshot 2", "snapshot 4 replacing 0", "snapshot 5"], target.Calls);
        Assert.Equal([2L, 5], target.Held.Order());
    }

    [Fact]
    public void Recovery_needs_a_target()
    {
        var network = new ArrayNetwork(depth: 2, width: 4, ActivationKind.ReLU, weightStd: 0.5, seed: 9);
        using var monitor = new ArrayNetworkMonitor(network);

        Assert.Throws<ArgumentNullException>(() => monitor.Analyzer.EnableRecovery(new RecoveryOptions(), null!));
    }

    [Fact]
    public void The_public_accumulator_gives_the_adapters_observations_activation_statistics_the_detectors_read()
    {
        var accumulator = new ActivationAccumulator(ActivationKind.ReLU, measureActivity: true);
        var fromDevice = new ActivationAccumulator(ActivationKind.ReLU, measureActivity: true);
        // Two forward calls of one step (gradient accumulation): 3 units, the last never active.
        accumulator.Add([1f, -2f, -1f, 3f, 0f, -4f], units: 3, inner: 1);
        accumulator.Add([2f, 5f, -3f], units: 3, inner: 1);

        // The same two outputs reduced elsewhere (on a device): Σz, Σz², zeros, saturated, elements, rows, then the
        // per-unit active counts.
        fromDevice.Add(new ActivationSums(Sum: -3, SumOfSquares: 31, Zeros: 1, Saturated: 0, Elements: 6, Rows: 2), [2, 0, 0]);
        fromDevice.Add(new ActivationSums(Sum: 4, SumOfSquares: 38, Zeros: 0, Saturated: 0, Elements: 3, Rows: 1), [1, 1, 0]);

        ActivationStatistics statistics = accumulator.ToStatistics()!;
        ActivationStatistics reduced = fromDevice.ToStatistics()!;
        accumulator.Reset();

        Assert.Equal(9, statistics.ElementCount);
        Assert.Equal(1.0 / 9, statistics.Mean, 12);
        Assert.Equal(1.0 / 9, statistics.ZeroFraction, 12);
        Assert.Equal([1f, 1f / 3, 0f], statistics.UnitActiveFraction.ToArray());
        Assert.Null(statistics.SaturatedFraction);
        Assert.Null(accumulator.ToStatistics());
        Assert.Equal((statistics.ElementCount, statistics.ZeroFraction), (reduced.ElementCount, reduced.ZeroFraction));
        Assert.Equal(statistics.Mean, reduced.Mean, 12);
        Assert.Equal(statistics.Variance, reduced.Variance, 12);
        Assert.Equal(statistics.UnitActiveFraction.ToArray(), reduced.UnitActiveFraction.ToArray());
    }
}
