using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.Recovery;

/// <summary>
/// Applies the core's recovery decisions to a model and its optimizer (the analyzer calls it as its
/// <see cref="IRecoveryTarget"/>): takes and drops snapshots, restores one on a rollback, and scales the learning rates
/// for a while after it.
/// </summary>
/// <remarks>Snapshot memory is recycled: a capture that replaces the oldest snapshot (the core keeps at most
/// <paramref name="maxSnapshots"/>) copies into that snapshot's tensors and buffer, and a snapshot dropped by a rollback
/// is kept as a spare for the next capture while fewer than <paramref name="maxSnapshots"/> are held. So at most
/// <paramref name="maxSnapshots"/> snapshots' memory is ever held, and steady-state captures allocate nothing large.</remarks>
internal sealed class TrainingStateRecovery(torch.nn.Module model, OptimizerHelper optimizer, bool onDevice, int maxSnapshots) : IRecoveryTarget, IDisposable
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

    /// <inheritdoc/>
    public void RollBack(long snapshotStep)
    {
        if (!_snapshots.TryGetValue(snapshotStep, out TrainingStateSnapshot? snapshot))
        {
            throw new InvalidOperationException($"Recovery decided to roll back to the snapshot of step {snapshotStep}, which is not held.");
        }

        snapshot.Restore(State(), optimizer);
        if (MixedPrecision is not null && _scalerStates.TryGetValue(snapshotStep, out LossScalerState scaler))
        {
            MixedPrecision.RestoreScalerState(scaler);
        }
    }

    /// <summary>Takes a snapshot, into the spare or the snapshot it replaces when there is one; a failure (out of memory)
    /// is self-logged and the snapshot skipped, so training goes on with the older snapshots.</summary>
    public bool TakeSnapshot(long snapshotStep, long? replacing)
    {
        TrainingStateSnapshot? reuse = _spare;
        _spare = null;
        if (replacing is long evicted && _snapshots.Remove(evicted, out TrainingStateSnapshot? replaced))
        {
            // The core drops it with this capture: capture into it unless the spare is used.
            _scalerStates.Remove(evicted);
            if (reuse is null)
            {
                reuse = replaced;
            }
            else
            {
                replaced.Dispose();
            }
        }

        try
        {
            _snapshots[snapshotStep] = TrainingStateSnapshot.Capture(State(), optimizer, onDevice, reuse);
        }
#pragma warning disable CA1031 // A snapshot that cannot be taken must not break the training loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            GradientSelfLog.Write($"the recovery snapshot of step {snapshotStep} could not be taken; recovery keeps its older snapshots.", ex);
            return false;
        }

        if (MixedPrecision is not null)
        {
            _scalerStates[snapshotStep] = MixedPrecision.SaveScalerState();
        }

        return true;
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

    /// <inheritdoc/>
    public void DropSnapshot(long snapshotStep)
    {
        if (!_snapshots.Remove(snapshotStep, out TrainingStateSnapshot? dropped))
        {
            return;
        }

        _scalerStates.Remove(snapshotStep);
        if (_spare is null && _snapshots.Count < maxSnapshots)
        {
            _spare = dropped; // recycled by the next capture
        }
        else
        {
            dropped.Dispose();
        }
    }

    /// <inheritdoc/>
    public void ScaleLearningRate(double factor)
    {
        foreach (torch.optim.ILearningRateController group in optimizer.ParamGroups)
        {
            double original = group.LearningRate;
            group.LearningRate = original * factor;
            _scaled.Add((group, original, group.LearningRate));
        }
    }

    /// <inheritdoc/>
    public void RestoreLearningRate()
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
