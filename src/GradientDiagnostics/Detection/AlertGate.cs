namespace GradientDiagnostics;

/// <summary>
/// Persistence (fire after the condition held on k of the last n evaluations) and cooldown (stay quiet for c steps
/// after firing) for one detector criterion.
/// </summary>
internal sealed class AlertGate(PersistentDetectorOptions options)
{
    private ulong _history;
    private long _lastFired = long.MinValue;

    /// <summary>Records whether the condition held at <paramref name="step"/> and says whether to fire now.</summary>
    public bool Observe(long step, bool conditionHolds)
    {
        ulong window = options.PersistenceWindow >= 64 ? ulong.MaxValue : (1UL << options.PersistenceWindow) - 1;
        _history = ((_history << 1) | (conditionHolds ? 1UL : 0UL)) & window;
        if (!conditionHolds || ulong.PopCount(_history) < (ulong)options.Persistence)
        {
            return false;
        }

        if (_lastFired != long.MinValue && step - _lastFired <= options.CooldownSteps)
        {
            return false;
        }

        _lastFired = step;
        return true;
    }
}
