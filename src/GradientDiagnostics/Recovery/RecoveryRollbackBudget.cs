namespace GradientDiagnostics;

/// <summary>The rollbacks allowed within a window of steps: past the limit, rolling back does not cure the run and
/// recovery gives up instead.</summary>
internal sealed class RecoveryRollbackBudget(int maxRollbacks, int window)
{
    private readonly Queue<long> _rollbacks = new();

    /// <summary>The most rollbacks within <see cref="Window"/> steps.</summary>
    public int Max => maxRollbacks;

    /// <summary>The window, in steps.</summary>
    public int Window => window;

    /// <summary>The rollbacks counted: within the window as of the last <see cref="IsSpentAt"/>.</summary>
    public int Count => _rollbacks.Count;

    /// <summary>Forgets rollbacks older than the window and says whether one more at <paramref name="step"/> is over the limit.</summary>
    public bool IsSpentAt(long step)
    {
        while (_rollbacks.Count > 0 && step - _rollbacks.Peek() >= window)
        {
            _rollbacks.Dequeue();
        }

        return _rollbacks.Count >= maxRollbacks;
    }

    /// <summary>Counts a rollback at <paramref name="step"/>.</summary>
    public void Record(long step) => _rollbacks.Enqueue(step);

    public ComponentState SaveState(ComponentState state) => state.With("rollbackSteps", _rollbacks.Select(s => (double)s));

    public void LoadState(ComponentState state)
    {
        _rollbacks.Clear();
        foreach (double step in state.SeriesOf("rollbackSteps"))
        {
            _rollbacks.Enqueue((long)step);
        }
    }
}
