using System.Globalization;

namespace GradientDiagnostics;

/// <summary>
/// Configures recovery (<c>GradientMonitor.EnableRecovery</c>): refusing spiking steps before the optimizer applies them,
/// rolling back to an in-memory snapshot when damage was applied anyway, and giving up when the run stays corrupted.
/// The values are validated and copied when recovery is enabled; later changes have no effect.
/// </summary>
/// <remarks>
/// Memory: each snapshot holds a copy of every parameter and buffer of the model and of the optimizer's state, about
/// parameters × (1 + optimizer slots) elements: 2× the parameters for SGD with momentum, 3× for Adam. At most
/// <see cref="MaxSnapshots"/> are kept. See docs/reliability.md for the measured time per snapshot.
/// </remarks>
public sealed class RecoveryOptions
{
    /// <summary>The number of healthy steps between two snapshots (a step is healthy when it is applied, its gradients
    /// and loss are finite, and its loss does not spike). The first snapshot is taken at the first healthy step, and again
    /// after each rollback once this many healthy steps have passed. Must be in [1, 1 000 000].</summary>
    /// <value>The default value is 100: PaLM (Chowdhery et al. 2022, §5.1) restarted from a checkpoint about 100 steps
    /// before a spike.</value>
    public int SnapshotInterval { get; set; } = 100;

    /// <summary>The largest number of snapshots kept in memory; the oldest is dropped first. A rollback returns to the
    /// newest snapshot it has not returned to before, so a second rollback before a new snapshot goes further back.
    /// Must be in [1, 100].</summary>
    /// <value>The default value is 2: the newest one, and one older in case damage was applied before the newest was taken.</value>
    public int MaxSnapshots { get; set; } = 2;

    /// <summary>Whether snapshots stay on the parameters' device (fast to take and restore, but they use accelerator
    /// memory) instead of host memory. The optimizer's state is always kept in host memory, in TorchSharp's own
    /// state format.</summary>
    /// <value>The default value is <see langword="false"/>: snapshots are copied to host (CPU) memory.</value>
    public bool KeepSnapshotsOnDevice { get; set; }

    /// <summary>Whether a step whose global gradient norm spikes is refused before the optimizer applies it
    /// (<see cref="GradientStepResult.SkipStep"/>, with a <see cref="GradientAlertKind.Recovery"/> alert). The criteria
    /// are those of <see cref="ExplodingOptions"/> (<see cref="ExplodingOptions.SpikeZScoreThreshold"/>,
    /// <see cref="ExplodingOptions.SpikeFactorOverEarlyMax"/>, the EMA decay and warm-up), judged against the
    /// steps recovery let through, with the stricter floor <see cref="SpikeMinFactorOverMean"/>. The size of an update
    /// follows the gradient norm, so a step with a normal norm is never refused, whatever its loss.</summary>
    /// <value>The default value is <see langword="true"/>, as OLMo-core's <c>SkipStepOptimizer</c> skips outlier steps;
    /// refusing needs no snapshot and is the cheapest recovery.</value>
    public bool RefuseSpikingSteps { get; set; } = true;

    /// <summary>A step is refused only when its global gradient norm is also at least this multiple of the moving mean
    /// of the applied steps' norms (the alert's floor is <see cref="ExplodingOptions.SpikeMinFactorOverMean"/>;
    /// the larger of the two applies). Must be ≥ 1.</summary>
    /// <value>The default value is 10, the threshold of Megatron-LM's <c>is_unexpectedly_large</c>. Refusing is an
    /// action, so it needs more than an alert: on the healthy runs of this repository's tests, single outlier batches
    /// reached 5–7× the moving mean (measured, see docs/reliability.md).</value>
    public double SpikeMinFactorOverMean { get; set; } = 10;

    /// <summary>A loss whose z-score against the losses of the last <see cref="LossWindow"/> healthy steps is above
    /// this value, and that is also at least <see cref="LossSpikeMinFactorOverMean"/> × their mean, spikes. A loss
    /// spike alone does not refuse the step (its update is normal-sized); it counts as a failing step, so a loss that
    /// stays high, the mark of damaged weights, leads to a rollback. Needs the loss passed to <c>Step(loss)</c>.
    /// Must be &gt; 0.</summary>
    /// <value>The default value is 6, OLMo-core's <c>sigma_factor</c> (<c>optim/skip_step_optimizer.py</c>).</value>
    public double LossSpikeZScoreThreshold { get; set; } = 6;

    /// <summary>A loss spike must also be at least this multiple of the mean loss of the window (only for a positive
    /// mean): on a quiet run a high z-score can be a benign fluctuation. Must be ≥ 1.</summary>
    /// <value>The default value is 3: Lightning's <c>SpikeDetection</c> (<c>fabric/utilities/spike.py</c>) reports a
    /// spike when the loss exceeds its running mean by <c>rtol</c> = 2 times that mean.</value>
    public double LossSpikeMinFactorOverMean { get; set; } = 3;

    /// <summary>The number of most recent healthy steps whose losses are the loss spike's reference; the loss is judged
    /// once half of them (and at least 20) are known. Must be in [8, 100 000].</summary>
    /// <value>The default value is 128, OLMo-core's <c>rolling_interval_length</c>, judged from max(20, 128 / 2) losses
    /// as there.</value>
    public int LossWindow { get; set; } = 128;

    /// <summary>The number of consecutive failing steps after which recovery rolls back to a snapshot. A step fails
    /// when it is not applied (refused, or non-finite and skipped by <see cref="GradientMonitorOptions.SkipNonFiniteSteps"/>)
    /// or when its loss spikes. A burst of bad batches ends; damaged weights or optimizer state keep the loss or the
    /// gradients abnormal. Must be in [1, <see cref="MaxConsecutiveFailingSteps"/>).</summary>
    /// <value>The default value is 10: a burst of a few bad batches costs one batch each, and only a longer episode
    /// costs the progress made since the snapshot.</value>
    public int RollbackAfterFailingSteps { get; set; } = 10;

    /// <summary>The number of consecutive failing steps, rollbacks included, after which recovery gives up with a
    /// Critical <see cref="GradientAlertKind.Recovery"/> alert and stops acting: the stream stays corrupted, and skipping
    /// it for ever would hide that. Must be in (<see cref="RollbackAfterFailingSteps"/>, 1 000 000].</summary>
    /// <value>The default value is 50: five times <see cref="RollbackAfterFailingSteps"/>, room for the rollbacks
    /// <see cref="MaxRollbacks"/> allows.</value>
    public int MaxConsecutiveFailingSteps { get; set; } = 50;

    /// <summary>The largest number of rollbacks within <see cref="RollbackWindow"/> steps; one more gives up with a
    /// Critical <see cref="GradientAlertKind.Recovery"/> alert. Must be in [1, 1 000].</summary>
    /// <value>The default value is 3 in 1,000 steps: PaLM (§5.1) met about 20 spikes over a whole 780B-token run, so a
    /// few within a thousand steps means the cause is not a passing burst.</value>
    public int MaxRollbacks { get; set; } = 3;

    /// <summary>The number of most recent steps over which <see cref="MaxRollbacks"/> counts. Must be in [1, 10 000 000].</summary>
    /// <value>The default value is 1,000.</value>
    public int RollbackWindow { get; set; } = 1000;

    /// <summary>The factor applied to every parameter group's learning rate after a rollback, for
    /// <see cref="LearningRateFactorSteps"/> steps; the learning rate is then set back, unless something else (a
    /// scheduler) changed it meanwhile. Must be in (0, 1].</summary>
    /// <value>The default value is 1: the learning rate is not changed, as PaLM restarted with the same schedule and
    /// skipped the batches.</value>
    public double LearningRateFactor { get; set; } = 1;

    /// <summary>The number of steps after a rollback during which <see cref="LearningRateFactor"/> applies. Must be in
    /// [1, 10 000 000].</summary>
    /// <value>The default value is 100, one <see cref="SnapshotInterval"/>.</value>
    public int LearningRateFactorSteps { get; set; } = 100;

    /// <summary>Throws when a value is out of range; the message names the option (prefixed with <paramref name="path"/>).</summary>
    internal void Validate(string path)
    {
        OptionGuard.InRange(SnapshotInterval, 1, 1_000_000, $"{path}.{nameof(SnapshotInterval)}");
        OptionGuard.InRange(MaxSnapshots, 1, 100, $"{path}.{nameof(MaxSnapshots)}");
        OptionGuard.InClosedRange(SpikeMinFactorOverMean, 1, double.MaxValue, $"{path}.{nameof(SpikeMinFactorOverMean)}");
        OptionGuard.Positive(LossSpikeZScoreThreshold, $"{path}.{nameof(LossSpikeZScoreThreshold)}");
        OptionGuard.InClosedRange(LossSpikeMinFactorOverMean, 1, double.MaxValue, $"{path}.{nameof(LossSpikeMinFactorOverMean)}");
        OptionGuard.InRange(LossWindow, 8, 100_000, $"{path}.{nameof(LossWindow)}");
        OptionGuard.InRange(MaxConsecutiveFailingSteps, 2, 1_000_000, $"{path}.{nameof(MaxConsecutiveFailingSteps)}");
        // Against MaxConsecutiveFailingSteps only when it is valid itself, so one bad bound is reported once.
        int rollbackMax = MaxConsecutiveFailingSteps is >= 2 and <= 1_000_000 ? MaxConsecutiveFailingSteps - 1 : 999_999;
        OptionGuard.InRange(RollbackAfterFailingSteps, 1, rollbackMax, $"{path}.{nameof(RollbackAfterFailingSteps)}");
        OptionGuard.InRange(MaxRollbacks, 1, 1000, $"{path}.{nameof(MaxRollbacks)}");
        OptionGuard.InRange(RollbackWindow, 1, 10_000_000, $"{path}.{nameof(RollbackWindow)}");
        if (!(LearningRateFactor > 0 && LearningRateFactor <= 1))
        {
            string name = $"{path}.{nameof(LearningRateFactor)}";
            throw new ArgumentOutOfRangeException(name, LearningRateFactor, string.Create(CultureInfo.InvariantCulture,
                $"{name} must be a number in (0, 1]; it was {LearningRateFactor}."));
        }

        OptionGuard.InRange(LearningRateFactorSteps, 1, 10_000_000, $"{path}.{nameof(LearningRateFactorSteps)}");
    }
}
