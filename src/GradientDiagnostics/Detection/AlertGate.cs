namespace GradientDiagnostics;

/// <summary>
/// Persistence (fire after the condition held on k of the last n evaluations) and cooldown (stay quiet for c steps
/// after firing) for one detector criterion. Detectors without persistence options get 1 of 1.
/// </summary>
internal sealed class AlertGate
{
    private readonly int _persistence;
    private readonly int _window;
    private readonly int _cooldown;
    private ulong _history;
    private long _lastFired = long.MinValue;
    private string? _source;

    public AlertGate(DetectorOptions options)
    {
        (_persistence, _window) = options is PersistentDetectorOptions p ? (p.Persistence, p.PersistenceWindow) : (1, 1);
        _cooldown = options.CooldownSteps;
    }

    /// <summary>The number of recent evaluations, out of the persistence window, on which the condition held.</summary>
    public int RecentCount => (int)ulong.PopCount(_history);

    /// <summary>The persistence window n.</summary>
    public int Window => _window;

    /// <summary>Records whether the condition held at <paramref name="step"/> and says whether to fire now.</summary>
    public bool Observe(long step, bool conditionHolds)
    {
        ulong window = _window >= 64 ? ulong.MaxValue : (1UL << _window) - 1;
        _history = ((_history << 1) | (conditionHolds ? 1UL : 0UL)) & window;
        if (!conditionHolds || ulong.PopCount(_history) < (ulong)_persistence)
        {
            return false;
        }

        return Fire(step);
    }

    /// <summary>For criteria that name a source (a layer, the loss): a new source, or the first step after a step with
    /// none, always fires; the same source on consecutive steps fires again only after the cooldown.</summary>
    /// <param name="step">The step.</param>
    /// <param name="source">The source the condition holds at, or null when it does not hold.</param>
    public bool ObserveSource(long step, string? source)
    {
        string? previous = _source;
        _source = source;
        if (source is null)
        {
            return false;
        }

        if (source != previous)
        {
            _lastFired = step;
            return true;
        }

        return Fire(step);
    }

    private bool Fire(long step)
    {
        if (_lastFired != long.MinValue && step - _lastFired <= _cooldown)
        {
            return false;
        }

        _lastFired = step;
        return true;
    }

    /// <summary>The state to save with a checkpoint.</summary>
    public GateState SaveState() => new() { History = _history, LastFired = _lastFired == long.MinValue ? null : _lastFired, Source = _source };

    /// <summary>Restores a state saved by <see cref="SaveState"/>.</summary>
    public void LoadState(GateState state)
    {
        ulong window = _window >= 64 ? ulong.MaxValue : (1UL << _window) - 1;
        (_history, _lastFired, _source) = (state.History & window, state.LastFired ?? long.MinValue, state.Source);
    }
}
