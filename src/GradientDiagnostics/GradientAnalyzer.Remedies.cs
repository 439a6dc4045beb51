namespace GradientDiagnostics.Adapters;

/// <content>The remedies an adapter turns on after attach: recovery (snapshots, refusal and rollback of failing steps)
/// and loss scaling; the analyzer decides, and the adapter applies each decision to its framework's tensors.</content>
public sealed partial class GradientAnalyzer
{
    /// <summary>Turns recovery on from the next step: validates and copies <paramref name="options"/>. An adapter that
    /// can snapshot and restore its framework's parameters and optimizer state calls it with its
    /// <paramref name="target"/>; from then on <see cref="Analyze"/> decides recovery at every step and applies the
    /// decision through <paramref name="target"/> before it returns (docs/reliability.md).</summary>
    /// <param name="options">The recovery options; later changes to them have no effect.</param>
    /// <param name="target">Where snapshots are taken, restored and dropped, and learning rates scaled.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> or <paramref name="target"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Options are out of range; one exception names each (for example
    /// <c>Recovery.SnapshotInterval</c>).</exception>
    /// <exception cref="InvalidOperationException">Recovery is already enabled.</exception>
    public void EnableRecovery(RecoveryOptions options, IRecoveryTarget target)
    {
        if (_recovery is not null)
        {
            throw new InvalidOperationException("Recovery is already enabled on this monitor.");
        }

        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(target);
        OptionGuard.ValidateAll(() => options.Validate("Recovery"));
        _recovery = new RecoveryTargetDriver(new RecoveryPolicy(options, _spikeAtAttach), target);
    }

    /// <summary>The loss scaler, once <see cref="EnableLossScaling"/> was called; null before.</summary>
    public LossScaler? LossScaler => _scaler;

    /// <summary>Turns loss scaling on from the next step. Each step's observations are then taken to be measured on the
    /// gradients of the loss multiplied by <see cref="LossScaler.Scale"/> (as stored: scaled); the analyzer divides them by
    /// the scale, so every statistic, detector, alert and clipping decision is in unscaled units, and the result carries the
    /// scale (<see cref="GradientStepResult.LossScale"/>). A step whose stored gradients hold a NaN or ±Infinity is an
    /// overflow: it is always skipped (<see cref="GradientStepResult.SkipStep"/>, whatever
    /// <see cref="GradientMonitorOptions.SkipNonFiniteSteps"/> says), and under dynamic scaling it is not a failing step
    /// for recovery (an occasional overflow is how the dynamic scaler finds its scale). The scaler is updated at the end of
    /// each step.</summary>
    /// <param name="scaling">How the loss is scaled.</param>
    /// <returns>The scaler, for the adapter to read the scale from and to save and restore.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="scaling"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Loss scaling is already enabled.</exception>
    public LossScaler EnableLossScaling(LossScaling scaling)
    {
        ArgumentNullException.ThrowIfNull(scaling);
        if (_scaler is not null)
        {
            throw new InvalidOperationException("Loss scaling (mixed precision) is already enabled on this monitor.");
        }

        _scaler = new LossScaler(scaling);
        return _scaler;
    }
}
