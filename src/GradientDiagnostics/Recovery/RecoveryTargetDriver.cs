namespace GradientDiagnostics;

/// <summary>
/// Applies a <see cref="RecoveryPolicy"/>'s decisions to an adapter's <see cref="IRecoveryTarget"/> and tells the policy
/// which snapshots the target holds, so the adapter never reads recovery state back from the analyzer.
/// </summary>
internal sealed class RecoveryTargetDriver(RecoveryPolicy policy, IRecoveryTarget target)
{
    private readonly HashSet<long> _held = [];

    /// <summary>The policy that decides.</summary>
    public RecoveryPolicy Policy => policy;

    /// <summary>Applies the decision made for <paramref name="step"/>, in the order <see cref="IRecoveryTarget"/> states.</summary>
    public void Apply(RecoveryDecision decision, long step)
    {
        if (decision.RestoreLearningRate)
        {
            target.RestoreLearningRate();
        }

        if (decision.TakeSnapshot)
        {
            TakeSnapshot(step);
        }

        if (decision.RollBackTo is long rollBackTo)
        {
            target.RollBack(rollBackTo);
        }

        if (decision.ScaleLearningRate is double factor)
        {
            target.ScaleLearningRate(factor);
        }

        var kept = new HashSet<long>(policy.SnapshotSteps);
        foreach (long dropped in _held.Where(s => !kept.Contains(s)).ToList())
        {
            _held.Remove(dropped);
            target.DropSnapshot(dropped);
        }
    }

    private void TakeSnapshot(long step)
    {
        // The policy keeps a bounded number of snapshots: the one a new snapshot evicts is handed to the capture, whose
        // memory it may reuse, so at most that many snapshots' memory is ever held.
        long? replacing = policy.SnapshotEvictedByNext;
        if (replacing is long evicted)
        {
            _held.Remove(evicted);
        }

        if (target.TakeSnapshot(step, replacing))
        {
            policy.SnapshotTaken(step);
            _held.Add(step);
        }
        else if (replacing is long lost)
        {
            policy.SnapshotLost(lost);
        }
    }

    /// <summary>The policy's state, to save with a checkpoint (no snapshots: they are the target's tensors).</summary>
    public ComponentState SaveState() => policy.SaveState();

    /// <summary>Restores the policy's state saved by <see cref="SaveState"/>.</summary>
    public void LoadState(ComponentState state) => policy.LoadState(state);

    /// <summary>After a resume: the policy forgets its snapshots (their tensors were not saved) and takes its first at the
    /// next healthy step, and the target drops any it holds.</summary>
    public void ForgetSnapshots()
    {
        policy.ForgetSnapshots();
        foreach (long held in _held)
        {
            target.DropSnapshot(held);
        }

        _held.Clear();
    }
}
