namespace GradientDiagnostics;

/// <summary>
/// For each unit of one layer, the last measurement at which it was active; a unit is dead when it was not active on
/// any of the last <see cref="Window"/> measurements. Memory is one number per unit, whatever the run length.
/// </summary>
internal sealed class UnitActivityWindow(int window)
{
    private long[] _lastActive = [];

    /// <summary>The number of measurements a unit must stay inactive to be dead.</summary>
    public int Window { get; } = window;

    /// <summary>The number of measurements recorded.</summary>
    public long Measurements { get; private set; }

    /// <summary>The number of units tracked (the width of the last measurement).</summary>
    public int UnitCount => _lastActive.Length;

    /// <summary>Records one measurement: per unit, the fraction of the batch on which it was active.</summary>
    public void Record(ReadOnlySpan<float> activeFraction)
    {
        if (activeFraction.Length != _lastActive.Length)
        {
            // A new width (the first measurement, or a reshaped layer) restarts the window: old units do not map.
            _lastActive = new long[activeFraction.Length];
            Array.Fill(_lastActive, -1);
            Measurements = 0;
        }

        for (int unit = 0; unit < activeFraction.Length; unit++)
        {
            if (activeFraction[unit] > 0)
            {
                _lastActive[unit] = Measurements;
            }
        }

        Measurements++;
    }

    /// <summary>True once a full window has been measured, so "never active in the window" is meaningful.</summary>
    public bool IsFull => Measurements >= Window;

    /// <summary>The fraction of units not active on any of the last <see cref="Window"/> measurements; 0 before the window is full.</summary>
    public double DeadFraction()
    {
        if (!IsFull || _lastActive.Length == 0)
        {
            return 0;
        }

        long firstInWindow = Measurements - Window;
        int dead = 0;
        foreach (long last in _lastActive)
        {
            if (last < firstInWindow)
            {
                dead++;
            }
        }

        return (double)dead / _lastActive.Length;
    }

    /// <summary>The state to save with a checkpoint.</summary>
    public UnitWindowState SaveState() => new() { Measurements = Measurements, LastActive = [.. _lastActive] };

    /// <summary>Restores a state saved by <see cref="SaveState"/>.</summary>
    /// <exception cref="InvalidDataException">The state is invalid.</exception>
    public void LoadState(UnitWindowState state)
    {
        if (state.Measurements < 0 || state.LastActive.Any(s => s < -1 || s >= state.Measurements))
        {
            throw new InvalidDataException($"A saved dead-units window is invalid ({state.Measurements} measurements).");
        }

        (_lastActive, Measurements) = ([.. state.LastActive], state.Measurements);
    }
}
