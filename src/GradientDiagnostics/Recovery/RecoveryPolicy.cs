namespace GradientDiagnostics;

/// <summary>
/// Decides recovery, framework-free, from each step's global gradient norm and loss: refuse a spiking step (cheapest:
/// nothing was applied yet), roll back to a snapshot when steps keep failing (damage was applied, or the burst is long),
/// give up when a limit is reached. Only the gradient norm refuses a step (the update's size follows it); a spiking
/// loss marks the step as failing, so a loss that stays high (damaged weights) leads to a rollback. It keeps its own
/// references built only from the steps it let through, so refused spikes never raise the bar they are judged against.
/// </summary>
/// <remarks>
/// The analyzer decides with it at every step, and <see cref="RecoveryTargetDriver"/> applies each decision through the
/// adapter's <see cref="IRecoveryTarget"/> and registers the snapshots taken (<see cref="SnapshotTaken"/>,
/// <see cref="SnapshotLost"/>, <see cref="SnapshotSteps"/>). The adapter holds the snapshots' tensors; the policy only
/// knows their step numbers.
/// </remarks>
internal sealed class RecoveryPolicy
{
    private readonly int _snapshotInterval;
    private readonly bool _refuse;
    private readonly int _rollbackAfter;
    private readonly int _maxFailing;
    private readonly int _learningRateSteps;
    private readonly RecoveryLearningRate _learningRate;
    private readonly ExplodingOptions _spike;
    private readonly RecoveryReferences _references;
    private readonly RecoverySnapshotLedger _snapshots;
    private readonly RecoveryRollbackBudget _rollbacks;
    private int _failing;
    private int _failingSinceRollback;
    private int _healthySinceSnapshot;

    /// <summary>Copies the options: later changes to them have no effect.</summary>
    internal RecoveryPolicy(RecoveryOptions options, ExplodingOptions spike)
    {
        _snapshotInterval = options.SnapshotInterval;
        _refuse = options.RefuseSpikingSteps;
        _rollbackAfter = options.RollbackAfterFailingSteps;
        _maxFailing = options.MaxConsecutiveFailingSteps;
        _rollbacks = new RecoveryRollbackBudget(options.MaxRollbacks, options.RollbackWindow);
        _learningRateSteps = options.LearningRateFactorSteps;
        _learningRate = new RecoveryLearningRate(options.LearningRateFactor, options.LearningRateFactorSteps);
        _spike = (ExplodingOptions)spike.CopyOptions();
        _spike.SpikeMinFactorOverMean = Math.Max(spike.SpikeMinFactorOverMean, options.SpikeMinFactorOverMean);
        _references = new RecoveryReferences(_spike, options);
        _snapshots = new RecoverySnapshotLedger(options.MaxSnapshots);
        _healthySinceSnapshot = _snapshotInterval; // the first healthy step is snapshotted
    }

    /// <summary>The logging and metric mapping of the <see cref="GradientAlertKind.Recovery"/> alerts this policy raises.</summary>
    internal static AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.Recovery, "Recovery", AboutGradient: false);

    /// <summary>True once recovery gave up; it then decides nothing more.</summary>
    public bool GaveUp { get; private set; }

    /// <summary>The steps of the snapshots to keep, oldest first; the adapter drops any other it holds.</summary>
    public IEnumerable<long> SnapshotSteps => _snapshots.Steps;

    /// <summary>The step of the snapshot the next <see cref="SnapshotTaken"/> drops (the oldest, when the limit is
    /// reached); null when it drops none.</summary>
    public long? SnapshotEvictedByNext => _snapshots.NextEvicted;

    /// <summary>Decides for one step and adds a <see cref="GradientAlertKind.Recovery"/> alert for each action.</summary>
    /// <param name="step">The monitor step.</param>
    /// <param name="globalNorm">The global gradient L2 norm.</param>
    /// <param name="loss">The loss, when given.</param>
    /// <param name="skippedByMonitor">Whether the monitor already skips the step (non-finite gradients or loss).</param>
    /// <param name="alerts">The step's alerts.</param>
    internal RecoveryDecision Decide(long step, double globalNorm, double? loss, bool skippedByMonitor, List<GradientAlert> alerts)
    {
        if (GaveUp)
        {
            return default;
        }

        bool restoreLearningRate = _learningRate.Tick();
        bool finite = double.IsFinite(globalNorm) && (loss is not double given || double.IsFinite(given));
        GlobalNormSpike normSpike = finite ? _references.JudgeNorm(globalNorm) : default;
        double lossZ = 0, lossMean = 0;
        bool lossSpike = finite && loss is double value && _references.IsLossSpike(value, out lossZ, out lossMean);
        bool refuse = _refuse && normSpike.IsSpike;
        bool applied = !skippedByMonitor && !refuse;
        if (applied)
        {
            _references.Learn(finite, globalNorm, lossSpike ? null : loss);
        }

        if (applied && finite && !lossSpike)
        {
            _failing = 0;
            _failingSinceRollback = 0;
            bool snapshot = ++_healthySinceSnapshot >= _snapshotInterval;
            return new RecoveryDecision(RecoveryAction.None, TakeSnapshot: snapshot, RestoreLearningRate: restoreLearningRate);
        }

        // Failing: not applied, or applied although non-finite (SkipNonFiniteSteps off), or with a spiking loss.
        _failing++;
        _failingSinceRollback++;
        if (_failing >= _maxFailing)
        {
            return GiveUpAt(step, GradientMetricNames.ConsecutiveFailingSteps, _failing, _maxFailing,
                RecoveryAlerts.TooManyFailingSteps(_failing, _rollbacks.Count), restoreLearningRate, alerts);
        }

        if (_failingSinceRollback >= _rollbackAfter)
        {
            if (_rollbacks.IsSpentAt(step))
            {
                return GiveUpAt(step, GradientMetricNames.RollbacksInWindow, _rollbacks.Count + 1, _rollbacks.Max,
                    RecoveryAlerts.TooManyRollbacks(_rollbacks.Count + 1, _rollbacks.Window, _rollbacks.Max), restoreLearningRate, alerts);
            }

            if (_snapshots.RollBackTarget() is long target)
            {
                return RollBack(step, target, restoreLearningRate, alerts);
            }
        }

        if (refuse)
        {
            alerts.Add(RecoveryAlerts.Refused(step, globalNorm, normSpike, _spike, _references.MeanNorm,
                lossSpike ? (loss!.Value, lossZ, lossMean) : null, _failingSinceRollback, _rollbackAfter));
            return new RecoveryDecision(RecoveryAction.Refuse, RestoreLearningRate: restoreLearningRate);
        }

        return new RecoveryDecision(RecoveryAction.None, RestoreLearningRate: restoreLearningRate);
    }

    /// <summary>Registers a snapshot the adapter took at <paramref name="step"/> (after a decision with
    /// <see cref="RecoveryDecision.TakeSnapshot"/>), dropping the oldest beyond
    /// <see cref="RecoveryOptions.MaxSnapshots"/> from <see cref="SnapshotSteps"/>.</summary>
    /// <param name="step">The step the decision was made for; the snapshot holds the state before that step is applied.</param>
    public void SnapshotTaken(long step)
    {
        _healthySinceSnapshot = 0;
        _snapshots.Add(step);
    }

    /// <summary>Forgets the snapshot of <paramref name="step"/>, which the adapter could no longer restore (its memory was
    /// being reused by a capture that failed).</summary>
    /// <param name="step">The step of the snapshot lost.</param>
    public void SnapshotLost(long step) => _snapshots.Remove(step);

    private RecoveryDecision RollBack(long step, long target, bool restoreLearningRate, List<GradientAlert> alerts)
    {
        _snapshots.ReturnTo(target);
        _rollbacks.Record(step);
        int failing = _failingSinceRollback;
        _failingSinceRollback = 0;
        _healthySinceSnapshot = 0;
        double? scale = _learningRate.Cut();
        alerts.Add(RecoveryAlerts.RolledBack(step, target, failing, _rollbackAfter, scale, _learningRateSteps, _rollbacks.Count, _rollbacks.Max,
            _rollbacks.Window));
        // The adapter sets back an expiring scale before applying a new one.
        return new RecoveryDecision(RecoveryAction.RollBack, target, ScaleLearningRate: scale, RestoreLearningRate: restoreLearningRate);
    }

    private RecoveryDecision GiveUpAt(long step, string metric, double value, double threshold, string reason, bool restoreLearningRate,
        List<GradientAlert> alerts)
    {
        GaveUp = true;
        alerts.Add(RecoveryAlerts.GaveUp(step, metric, value, threshold, reason));
        bool restore = _learningRate.Stop() || restoreLearningRate;
        return new RecoveryDecision(RecoveryAction.GiveUp, RestoreLearningRate: restore);
    }

    /// <summary>The policy's counters and references, to save with a checkpoint. The snapshot ledger is left out: the
    /// snapshots' tensors are not saved, so a resumed run takes its first snapshot at its first healthy step.</summary>
    internal ComponentState SaveState() =>
        _rollbacks.SaveState(_learningRate.SaveState(_references.SaveState(new ComponentState()
            .With("failing", _failing).With("failingSinceRollback", _failingSinceRollback).With("healthySinceSnapshot", _healthySinceSnapshot)
            .With("gaveUp", GaveUp))));

    /// <summary>Restores a state saved by <see cref="SaveState"/>; the snapshot ledger is left as it is.</summary>
    internal void LoadState(ComponentState state)
    {
        _references.LoadState(state);
        _learningRate.LoadState(state);
        _rollbacks.LoadState(state);
        (_failing, _failingSinceRollback) = ((int)state.CountOf("failing"), (int)state.CountOf("failingSinceRollback"));
        (_healthySinceSnapshot, GaveUp) = ((int)state.CountOf("healthySinceSnapshot"), state.FlagOf("gaveUp"));
    }

    /// <summary>Forgets every snapshot after a resume (their tensors were not saved), so the next healthy step is
    /// snapshotted, as on a fresh run.</summary>
    internal void ForgetSnapshots()
    {
        _snapshots.Clear();
        _healthySinceSnapshot = _snapshotInterval;
    }
}
