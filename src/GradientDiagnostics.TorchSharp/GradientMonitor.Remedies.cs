using GradientDiagnostics.TorchSharp.Recovery;

namespace GradientDiagnostics.TorchSharp;

/// <content>The remedies a user turns on after attach: recovery (snapshots and rollback) and mixed precision (fp32
/// masters and loss scaling).</content>
public sealed partial class GradientMonitor
{
    /// <summary>
    /// Turns on recovery for the steps to come. <see cref="Step"/> then refuses a step whose global gradient norm or
    /// loss spikes (<see cref="GradientStepResult.SkipStep"/>, before the optimizer applies it), keeps in-memory
    /// snapshots of the model's parameters and buffers and of <paramref name="optimizer"/>'s state (momentum buffers,
    /// Adam's moments and step counts) taken on healthy steps, restores the last good one bit-exactly when steps keep
    /// failing (<see cref="GradientStepResult.RolledBackToStep"/>), and gives up with a Critical alert at the configured
    /// limits. Each action raises a <see cref="GradientAlertKind.Recovery"/> alert. Pass the step's loss to
    /// <see cref="Step"/> for the loss spike criterion.
    /// </summary>
    /// <param name="optimizer">The optimizer that updates the model: a TorchSharp optimizer derived from
    /// <c>OptimizerHelper</c> (SGD, Adam, AdamW, RMSprop, …).</param>
    /// <param name="configure">Sets the options; they are validated and copied before this method returns.</param>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="optimizer"/> keeps its state in native code, which cannot be
    /// snapshotted.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it
    /// (for example <c>Recovery.SnapshotInterval</c>).</exception>
    /// <exception cref="InvalidOperationException">Recovery is already enabled on this monitor.</exception>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    public void EnableRecovery(torch.optim.Optimizer optimizer, Action<RecoveryOptions>? configure = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (optimizer is not global::TorchSharp.Modules.OptimizerHelper managed)
        {
            throw new ArgumentException("Recovery needs an optimizer whose state TorchSharp exposes (derived from OptimizerHelper, as SGD and Adam are); " +
                $"{optimizer.GetType().Name} is not.", nameof(optimizer));
        }

        var options = new RecoveryOptions();
        configure?.Invoke(options);
        var recovery = new TrainingStateRecovery(_module, managed, options.KeepSnapshotsOnDevice, options.MaxSnapshots) { MixedPrecision = _mixed };
        _analyzer.EnableRecovery(options, recovery);
        _recovery = recovery;
    }

    /// <summary>
    /// Turns on mixed-precision training for a 16-bit model (<c>model.half()</c> or <c>model.to(ScalarType.BFloat16)</c>):
    /// an fp32 master copy of every trainable parameter for the optimizer, loss scaling, and, in each <see cref="Step"/>,
    /// one read of the 16-bit gradients that checks them for overflow (a step with a NaN or ±Infinity gradient is skipped,
    /// nothing is written, and a dynamic scale backs off), measures every statistic and decides clipping in unscaled units,
    /// and writes <c>master.grad = g₁₆ × (clip coefficient / S)</c> in fp32. Build the optimizer on
    /// <see cref="MixedPrecisionTraining.MasterParameters"/>, then call <see cref="EnableRecovery"/> (if wanted) with it:
    /// recovery's snapshots then hold the masters, and a rollback restores the loss scaler too.
    /// </summary>
    /// <param name="configure">Sets the options; copied before this method returns. The default loss scaling is
    /// <see cref="LossScaling.Dynamic"/> when a trainable parameter is float16, <see cref="LossScaling.None"/> otherwise.</param>
    /// <returns>The masters, the loss scale and the step that writes the masters back into the model.</returns>
    /// <exception cref="InvalidOperationException">Mixed precision is already enabled, or recovery was enabled first (its
    /// optimizer cannot be the masters').</exception>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    public MixedPrecisionTraining EnableMixedPrecision(Action<MixedPrecisionOptions>? configure = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _mixed = MixedPrecisionTraining.Enable(_analyzer, _module, _layers, configure, enabled: _mixed is not null, recoveryEnabled: _recovery is not null);
        _mixed.Target.ModelGradients = _gradients;
        _measurement.MasterWeights = true;
        return _mixed;
    }
}
