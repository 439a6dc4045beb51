namespace GradientDiagnostics;

/// <summary>The core's decision for one step, which the adapter applies to the tensors and the optimizer.</summary>
/// <param name="Action">What recovery does.</param>
/// <param name="RollBackTo">With <see cref="RecoveryAction.RollBack"/>, the step of the snapshot to restore.</param>
/// <param name="TakeSnapshot">Whether to snapshot the parameters and optimizer state now, before the optimizer applies
/// this (healthy) step; the snapshot is labelled with this step.</param>
/// <param name="ScaleLearningRate">A factor to multiply every learning rate by now, after a rollback; null for none.</param>
/// <param name="RestoreLearningRate">Whether to set back the learning rates scaled by an earlier decision.</param>
internal readonly record struct RecoveryDecision(
    RecoveryAction Action,
    long? RollBackTo = null,
    bool TakeSnapshot = false,
    double? ScaleLearningRate = null,
    bool RestoreLearningRate = false)
{
    /// <summary>True when the optimizer must not apply the step.</summary>
    public bool SkipsStep => Action is RecoveryAction.Refuse or RecoveryAction.RollBack;
}
