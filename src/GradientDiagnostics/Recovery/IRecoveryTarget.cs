namespace GradientDiagnostics.Adapters;

/// <summary>
/// Where recovery's decisions are applied: the framework's parameters, buffers and optimizer state. The core decides when
/// to snapshot, which snapshot to restore, which to drop and when to scale the learning rate, and calls these members
/// from <see cref="GradientAnalyzer.Analyze"/>; an adapter holds the snapshots' tensors and applies each call in place.
/// A framework adapter implements it and passes it to <see cref="GradientAnalyzer.EnableRecovery"/>.
/// </summary>
/// <remarks>Within one step the calls come in this order: <see cref="RestoreLearningRate"/>, <see cref="TakeSnapshot"/>,
/// <see cref="RollBack"/>, <see cref="ScaleLearningRate"/>, then <see cref="DropSnapshot"/> for each snapshot no longer
/// kept. Steps are the analyzer's step numbers (<see cref="GradientStepResult.Step"/>).</remarks>
public interface IRecoveryTarget
{
    /// <summary>Snapshots the state as it is now, before the optimizer applies this (healthy) step, labelled
    /// <paramref name="snapshotStep"/>.</summary>
    /// <param name="snapshotStep">The step being analyzed; a later <see cref="RollBack"/> to it restores this state.</param>
    /// <param name="replacing">A snapshot the core stops keeping when this one is taken, whose memory the capture may
    /// reuse; it is gone whether or not the capture succeeds, and is not passed to <see cref="DropSnapshot"/>. Null when
    /// none is replaced.</param>
    /// <returns>True when the snapshot was taken; false when it could not be (out of memory), so recovery goes on with
    /// the older snapshots and tries again on the next healthy step.</returns>
    bool TakeSnapshot(long snapshotStep, long? replacing);

    /// <summary>Restores the snapshot labelled <paramref name="snapshotStep"/>: the parameters, buffers and optimizer state as
    /// they were before that step was applied. The current step is not applied (<see cref="GradientStepResult.SkipStep"/>).</summary>
    /// <param name="snapshotStep">A step whose snapshot was taken and not dropped.</param>
    void RollBack(long snapshotStep);

    /// <summary>Multiplies every learning rate by <paramref name="factor"/>, after a rollback
    /// (<see cref="RecoveryOptions.LearningRateFactor"/>).</summary>
    /// <param name="factor">The factor, in (0, 1].</param>
    void ScaleLearningRate(double factor);

    /// <summary>Sets back the learning rates scaled by <see cref="ScaleLearningRate"/>, unless something else (a
    /// scheduler) changed them since.</summary>
    void RestoreLearningRate();

    /// <summary>Releases the snapshot labelled <paramref name="snapshotStep"/>: the core no longer keeps it.</summary>
    /// <param name="snapshotStep">A step whose snapshot was taken.</param>
    void DropSnapshot(long snapshotStep);
}
