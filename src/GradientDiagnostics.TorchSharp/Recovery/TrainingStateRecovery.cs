// Over 150 lines: snapshot recycling, rollback and the learning-rate scaling after it share the one snapshot table and
// the spare, and must change together to keep the memory bound stated below.
using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.Recovery;

/// <summary>
/// Applies the core's recovery decisions (<see cref="RecoveryPolicy"/>) to a model and its optimizer: takes and drops
/// snapshots, restores one on a rollback, and scales the learning rates for a while after it.
/// </summary>
/// <remarks>Snapshot memory is recycled: a capture that will evict the oldest snapshot (the policy keeps at most
/// <paramref name="maxSnapshots"/>) copies into that snapshot's tensors and buffer, and a snapshot dropped by a rollback
/// is kept as a spare for the next capture while fewer than <paramref name="maxSnapshots"/> are held. So at most
/// <paramref name="maxSnapshots"/> snapshots' memory is ever held, and steady-state captures allocate nothing large.</remarks>
internal sealed class TrainingStateRecovery(torch.nn.Module model, OptimizerHelper optimizer, bool onDevice, int maxSnapshots) : IDisposable
{
    private readonly Dictionary<long, TrainingStateSnapshot> _snapshots = [];
    private TrainingStateSnapshot? _spare;
    private readonly List<(torch.optim.ILearningRateController Group, double Original, double Scaled)> _scaled = [];
    private readonly Dictionary<long, LossScalerState> _scalerStates = [];

    /// <summary>Mixed precision, when enabled before recovery: snapshots then hold the fp32 masters (the weights the
    /// optimizer updates) and the loss scaler's state, and a rollback restores both.</summary>
    internal MixedPrecisionTraining? MixedPrecision { get; init; }

    /// <summary>The snapshots held, by step.</summary>
    internal IReadOnlyDictionary<long, TrainingStateSnapshot> Snapshots => _snapshots;

    /// <summary>Applies the decision made for <paramref name="step"/>, and registers a snapshot with the policy.</summary>
    public void Apply(RecoveryDecision decision, long step, RecoveryPolicy policy)
    {
        if (decision.RestoreLearningRate)
        {
            RestoreLearningRates();
        }

        if (decision.TakeSnapshot)
        {
            TakeSnapshot(step, policy);
        }

        if (decision.RollBackTo is long target)
        {
            if (!_snapshots.TryGetValue(target, out TrainingStateSnapshot? snapshot))
            {
                throw new InvalidOperationException($"Recovery decided to roll back to the snapshot of step {target}, which is not held.");
            }

            snapshot.Restore(State(), optimizer);
            if (MixedPrecision is not null && _scalerStates.TryGetValue(target, out LossScalerState scaler))
            {
                MixedPrecision.RestoreScalerState(scaler);
            }
        }

        if (decision.ScaleLearningRate is double factor)
        {
            ScaleLearningRates(factor);
        }

        DropSnapshotsExcept(policy.SnapshotSteps);
    }

    /// <summary>Takes a snapshot, into the spare or the snapshot it evicts when there is one; a failure (out of memory)
    /// is self-logged and the snapshot skipped, so training goes on with the older snapshots.</summary>
    private void TakeSnapshot(long step, RecoveryPolicy policy)
    {
        TrainingStateSnapshot? reuse = _spare;
        _spare = null;
        long? evicted = null;
        if (reuse is null && _snapshots.Count >= maxSnapshots)
        {
            // The policy drops its oldest snapshot when this one is registered: capture into it.
            evicted = _snapshots.Keys.Min();
            reuse = _snapshots[evicted.Value];
            _snapshots.Remove(evicted.Value);
        }

        try
        {
            _snapshots[step] = TrainingStateSnapshot.Capture(State(), optimizer, onDevice, reuse);
        }
#pragma warning disable CA1031 // A snapshot that cannot be taken must not break the training loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (evicted is long lost)
            {
                policy.SnapshotLost(lost); // its memory was being overwritten: it can no longer be restored
            }

            GradientSelfLog.Write($"the recovery snapshot of step {step} could not be taken; recovery keeps its older snapshots.", ex);
            return;
        }

        if (MixedPrecision is not null)
        {
            _scalerStates[step] = MixedPrecision.SaveScalerState();
        }

        policy.SnapshotTaken(step);
    }

    public void Dispose()
    {
        foreach (TrainingStateSnapshot snapshot in _snapshots.Values)
        {
            snapshot.Dispose();
        }

        _snapshots.Clear();
        _spare?.Dispose();
        _spare = null;
    }

    /// <summary>The tensors a snapshot holds: every parameter, then every buffer (BatchNorm's running statistics), read
    /// afresh each time so a model moved with <c>to()</c> is still found.</summary>
    private List<torch.Tensor> State() => [.. model.parameters(), .. model.buffers(), .. MixedPrecision?.Masters ?? []];

    private void DropSnapshotsExcept(IEnumerable<long> kept)
    {
        var keep = new HashSet<long>(kept);
        foreach (long step in _snapshots.Keys.Where(s => !keep.Contains(s)).ToList())
        {
            TrainingStateSnapshot dropped = _snapshots[step];
            _snapshots.Remove(step);
            _scalerStates.Remove(step);
            if (_spare is null && _snapshots.Count < maxSnapshots)
            {
                _spare = dropped; // recycled by the next capture
            }
            else
            {
                dropped.Dispose();
            }
        }
    }

    private void ScaleLearningRates(double factor)
    {
        foreach (torch.optim.ILearningRateController group in optimizer.ParamGroups)
        {
            double original = group.LearningRate;
            group.LearningRate = original * factor;
            _scaled.Add((group, original, group.LearningRate));
        }
    }

    /// <summary>Sets back the learning rates scaled after a rollback, unless something else (a scheduler) changed them.</summary>
    private void RestoreLearningRates()
    {
        foreach ((torch.optim.ILearningRateController group, double original, double scaled) in _scaled)
        {
            if (group.LearningRate == scaled)
            {
                group.LearningRate = original;
            }
        }

        _scaled.Clear();
    }
}
