namespace GradientDiagnostics;

/// <summary>
/// The steps of the snapshots the adapter holds, oldest first, and which of them a rollback already returned to. The
/// adapter holds the tensors; this ledger only knows step numbers, so the policy stays framework-free.
/// </summary>
internal sealed class RecoverySnapshotLedger(int maxSnapshots)
{
    private readonly List<(long Step, bool Returned)> _snapshots = [];

    /// <summary>The steps of the snapshots to keep, oldest first.</summary>
    public IEnumerable<long> Steps => _snapshots.Select(s => s.Step);

    /// <summary>The step of the snapshot <see cref="Add"/> would drop next (the oldest, when the ledger is full); else null.</summary>
    public long? NextEvicted => _snapshots.Count >= maxSnapshots && _snapshots.Count > 0 ? _snapshots[0].Step : null;

    /// <summary>Registers a snapshot, dropping the oldest beyond the limit.</summary>
    public void Add(long step)
    {
        _snapshots.Add((step, false));
        if (_snapshots.Count > maxSnapshots)
        {
            _snapshots.RemoveAt(0);
        }
    }

    /// <summary>Forgets the snapshot of <paramref name="step"/>.</summary>
    public void Remove(long step) => _snapshots.RemoveAll(s => s.Step == step);

    /// <summary>The newest snapshot not returned to yet, or else the oldest kept; null when none is held.</summary>
    public long? RollBackTarget()
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

    /// <summary>Records a rollback to <paramref name="target"/>: every newer snapshot is dropped (it holds the damage being
    /// undone), and the target is marked so a second rollback in a row goes further back.</summary>
    public void ReturnTo(long target)
    {
        int index = _snapshots.FindIndex(s => s.Step == target);
        _snapshots.RemoveRange(index + 1, _snapshots.Count - index - 1);
        _snapshots[index] = (target, true);
    }

    /// <summary>Forgets every snapshot (a resumed run holds none of the tensors).</summary>
    public void Clear() => _snapshots.Clear();
}
