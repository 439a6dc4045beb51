using System.Globalization;

namespace GradientDiagnostics;

/// <summary>
/// Decides recovery, framework-free, from each step's global gradient norm and loss: refuse a spiking step (cheapest:
/// nothing was applied yet), roll back to a snapshot when steps keep failing (damage was applied, or the burst is long),
/// give up when a limit is reached. Only the gradient norm refuses a step (the update's size follows it); a spiking
/// loss marks the step as failing, so a loss that stays high (damaged weights) leads to a rollback. It keeps its own references built only from the steps it let through, so refused
/// spikes never raise the bar they are judged against. The adapter holds the snapshots' tensors; this class only knows
/// their step numbers (<see cref="SnapshotSteps"/>).
/// </summary>
internal sealed class RecoveryPolicy
{
    private readonly int _snapshotInterval;
    private readonly int _maxSnapshots;
    private readonly bool _refuse;
    private readonly int _rollbackAfter;
    private readonly int _maxFailing;
    private readonly int _maxRollbacks;
    private readonly int _rollbackWindow;
    private readonly double _learningRateFactor;
    private readonly int _learningRateSteps;
    private readonly ExplodingGradientOptions _spike;
    private readonly ExponentialMovingStatistics _norms;
    private readonly LossSpikeCriterion _losses;
    private readonly List<(long Step, bool Returned)> _snapshots = [];
    private readonly Queue<long> _rollbacks = new();
    private double _earlyMax;
    private long _applied;
    private int _failing;
    private int _failingSinceRollback;
    private int _healthySinceSnapshot;
    private int _learningRateStepsLeft;

    /// <summary>Copies the options: later changes to them have no effect.</summary>
    public RecoveryPolicy(GradientRecoveryOptions options, ExplodingGradientOptions spike)
    {
        _snapshotInterval = options.SnapshotInterval;
        _maxSnapshots = options.MaxSnapshots;
        _refuse = options.RefuseSpikingSteps;
        _rollbackAfter = options.RollbackAfterFailingSteps;
        _maxFailing = options.MaxConsecutiveFailingSteps;
        _maxRollbacks = options.MaxRollbacks;
        _rollbackWindow = options.RollbackWindow;
        _learningRateFactor = options.LearningRateFactor;
        _learningRateSteps = options.LearningRateFactorSteps;
        _spike = (ExplodingGradientOptions)spike.CopyOptions();
        _spike.SpikeMinFactorOverMean = Math.Max(spike.SpikeMinFactorOverMean, options.SpikeMinFactorOverMean);
        _norms = new ExponentialMovingStatistics(spike.SpikeEmaDecay, spike.SpikeWarmupSteps);
        _losses = new LossSpikeCriterion(options.LossWindow, options.LossSpikeZScoreThreshold, options.LossSpikeMinFactorOverMean);
        _healthySinceSnapshot = _snapshotInterval; // the first healthy step is snapshotted
    }

    /// <summary>The logging and metric mapping of the <see cref="GradientAlertKind.Recovery"/> alerts this policy raises.</summary>
    public static AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.Recovery, "Recovery", AboutGradient: false);

    /// <summary>True once recovery gave up; it then decides nothing more.</summary>
    public bool GaveUp { get; private set; }

    /// <summary>The steps of the snapshots to keep, oldest first; the adapter drops any other.</summary>
    public IEnumerable<long> SnapshotSteps => _snapshots.Select(s => s.Step);

    /// <summary>Decides for one step and adds a <see cref="GradientAlertKind.Recovery"/> alert for each action.</summary>
    /// <param name="step">The monitor step.</param>
    /// <param name="globalNorm">The global gradient L2 norm.</param>
    /// <param name="loss">The loss, when given.</param>
    /// <param name="skippedByMonitor">Whether the monitor already skips the step (non-finite gradients or loss).</param>
    /// <param name="alerts">The step's alerts.</param>
    public RecoveryDecision Decide(long step, double globalNorm, double? loss, bool skippedByMonitor, List<GradientAlert> alerts)
    {
        if (GaveUp)
        {
            return default;
        }

        bool restoreLearningRate = _learningRateStepsLeft > 0 && --_learningRateStepsLeft == 0;
        bool finite = double.IsFinite(globalNorm) && (loss is not double given || double.IsFinite(given));
        GlobalNormSpike normSpike = finite ? GlobalNormSpike.Judge(globalNorm, _norms, _earlyMax, _applied >= _spike.EarlySteps, _spike) : default;
        double lossZ = 0, lossMean = 0;
        bool lossSpike = finite && loss is double value && _losses.IsSpike(value, out lossZ, out lossMean);
        bool refuse = _refuse && normSpike.IsSpike;
        bool applied = !skippedByMonitor && !refuse;
        if (applied)
        {
            Learn(finite, globalNorm, lossSpike ? null : loss);
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
            return GiveUpAt(step, GradientMetricNames.ConsecutiveFailingSteps, _failing, _maxFailing, string.Create(CultureInfo.InvariantCulture,
                $"{_failing} consecutive steps failed (refused, non-finite, or with a spiking loss){(_rollbacks.Count > 0 ? $" despite {_rollbacks.Count} rollback(s)" : string.Empty)}: the data stream or the run stays corrupted"), restoreLearningRate, alerts);
        }

        if (_failingSinceRollback >= _rollbackAfter)
        {
            while (_rollbacks.Count > 0 && step - _rollbacks.Peek() >= _rollbackWindow)
            {
                _rollbacks.Dequeue();
            }

            if (_rollbacks.Count >= _maxRollbacks)
            {
                return GiveUpAt(step, GradientMetricNames.RollbacksInWindow, _rollbacks.Count + 1, _maxRollbacks, string.Create(CultureInfo.InvariantCulture,
                    $"a rollback would be number {_rollbacks.Count + 1} within {_rollbackWindow} steps (at most {_maxRollbacks}): rolling back does not cure this run"), restoreLearningRate, alerts);
            }

            if (RollBackTarget() is long target)
            {
                return RollBack(step, target, restoreLearningRate, alerts);
            }
        }

        if (refuse)
        {
            alerts.Add(RefusalAlert(step, globalNorm, loss, normSpike, lossSpike, lossZ, lossMean));
            return new RecoveryDecision(RecoveryAction.Refuse, RestoreLearningRate: restoreLearningRate);
        }

        return new RecoveryDecision(RecoveryAction.None, RestoreLearningRate: restoreLearningRate);
    }

    /// <summary>Adds an applied step to the references; a spiking loss is kept out, so damage never becomes the norm.</summary>
    private void Learn(bool finite, double globalNorm, double? loss)
    {
        if (!finite)
        {
            return; // applied although non-finite (SkipNonFiniteSteps is off): nothing to learn from
        }

        _norms.Add(globalNorm);
        if (_applied < _spike.EarlySteps)
        {
            _earlyMax = Math.Max(_earlyMax, globalNorm);
        }

        _applied++;
        if (loss is double value)
        {
            _losses.Add(value);
        }
    }

    /// <summary>Registers a snapshot taken at <paramref name="step"/> (after a decision with
    /// <see cref="RecoveryDecision.TakeSnapshot"/>), dropping the oldest beyond the limit.</summary>
    public void SnapshotTaken(long step)
    {
        _healthySinceSnapshot = 0;
        _snapshots.Add((step, false));
        if (_snapshots.Count > _maxSnapshots)
        {
            _snapshots.RemoveAt(0);
        }
    }

    /// <summary>Forgets the snapshot of <paramref name="step"/>, which the adapter could no longer restore (its memory was
    /// being reused by a capture that failed).</summary>
    public void SnapshotLost(long step) => _snapshots.RemoveAll(s => s.Step == step);

    /// <summary>The newest snapshot not returned to yet, or else the oldest kept.</summary>
    private long? RollBackTarget()
    {
        for (int i = _snapshots.Count - 1; i >= 0; i--)
        {
            if (!_snapshots[i].Returned)
            {
                return _snapshots[i].Step;
            }
        }

        return _snapshots.Count > 0 ? _snapshots[0].Step : null;
    }

    private RecoveryDecision RollBack(long step, long target, bool restoreLearningRate, List<GradientAlert> alerts)
    {
        int index = _snapshots.FindIndex(s => s.Step == target);
        _snapshots.RemoveRange(index + 1, _snapshots.Count - index - 1);
        _snapshots[index] = (target, true);
        _rollbacks.Enqueue(step);
        int failing = _failingSinceRollback;
        _failingSinceRollback = 0;
        _healthySinceSnapshot = 0;
        double? scale = null;
        if (_learningRateFactor < 1)
        {
            scale = _learningRateStepsLeft > 0 ? null : _learningRateFactor;
            _learningRateStepsLeft = _learningRateSteps;
        }

        string rate = scale is double f
            ? string.Create(CultureInfo.InvariantCulture, $" The learning rate is multiplied by {f:G3} for {_learningRateSteps} steps.")
            : string.Empty;
        alerts.Add(new GradientAlert(GradientAlertKind.Recovery, GradientAlertSeverity.Warning, step, GradientAlert.GlobalLayerName,
            GradientMetricNames.ConsecutiveFailingSteps, failing, _rollbackAfter, string.Create(CultureInfo.InvariantCulture,
                $"Rolled back to the snapshot of step {target}: {failing} consecutive steps failed (refused, non-finite, or with a spiking loss), so the weights or the optimizer state are likely damaged, or the burst of bad batches is long. Parameters, buffers and optimizer state were restored exactly; this step must not be applied.{rate} Rollback {_rollbacks.Count} of at most {_maxRollbacks} within {_rollbackWindow} steps.")));
        // The adapter sets back an expiring scale before applying a new one.
        return new RecoveryDecision(RecoveryAction.RollBack, target, ScaleLearningRate: scale, RestoreLearningRate: restoreLearningRate);
    }

    private RecoveryDecision GiveUpAt(long step, string metric, double value, double threshold, string reason, bool restoreLearningRate, List<GradientAlert> alerts)
    {
        GaveUp = true;
        alerts.Add(new GradientAlert(GradientAlertKind.Recovery, GradientAlertSeverity.Critical, step, GradientAlert.GlobalLayerName, metric, value, threshold,
            $"Recovery gives up: {reason}. It stops refusing and rolling back from this step on; the monitor still skips non-finite steps. Inspect the data and the learning rate, then restart from a checkpoint."));
        bool restore = restoreLearningRate || _learningRateStepsLeft > 0;
        _learningRateStepsLeft = 0;
        return new RecoveryDecision(RecoveryAction.GiveUp, RestoreLearningRate: restore);
    }

    /// <summary>The alert of a refused step: its norm spiked (the only reason to refuse); a spiking loss is mentioned.</summary>
    private GradientAlert RefusalAlert(long step, double globalNorm, double? loss, GlobalNormSpike normSpike, bool lossSpike, double lossZ, double lossMean)
    {
        string why = normSpike.ZScoreSpike
            ? string.Create(CultureInfo.InvariantCulture, $"the global gradient norm spiked to {globalNorm:G3} (z-score {normSpike.ZScore:G3} against the applied steps' moving mean {_norms.Mean:G3})")
            : string.Create(CultureInfo.InvariantCulture, $"the global gradient norm spiked to {globalNorm:G3} ({normSpike.OverEarlyMax:G3}× the largest norm of the first {_spike.EarlySteps} applied steps)");
        if (lossSpike)
        {
            why += string.Create(CultureInfo.InvariantCulture, $" and the loss spiked to {loss!.Value:G3} (z-score {lossZ:G3}, {loss.Value / lossMean:G3}× the mean {lossMean:G3} of the recent healthy steps)");
        }

        return new GradientAlert(GradientAlertKind.Recovery, GradientAlertSeverity.Warning, step, GradientAlert.GlobalLayerName,
            normSpike.ZScoreSpike ? GradientMetricNames.GlobalNormZScore : GradientMetricNames.GlobalNormRatioToEarlyMax,
            normSpike.ZScoreSpike ? normSpike.ZScore : normSpike.OverEarlyMax,
            normSpike.ZScoreSpike ? _spike.SpikeZScoreThreshold : _spike.SpikeFactorOverEarlyMax,
            $"Refused this step before the optimizer applies it: {why}. The weights are unchanged; an outlier batch is the usual cause. {_failingSinceRollback} consecutive failing step(s); a rollback follows at {_rollbackAfter}.");
    }
}
