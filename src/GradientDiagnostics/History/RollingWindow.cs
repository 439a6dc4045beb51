namespace GradientDiagnostics;

/// <summary>The last <see cref="Capacity"/> values of a series, in a fixed ring buffer: memory does not grow with the run.</summary>
internal sealed class RollingWindow
{
    private readonly double[] _values;
    private int _next;

    public RollingWindow(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _values = new double[capacity];
    }

    /// <summary>The largest number of values kept.</summary>
    public int Capacity => _values.Length;

    /// <summary>The number of values kept, at most <see cref="Capacity"/>.</summary>
    public int Count { get; private set; }

    /// <summary>The value added last; NaN when the window is empty.</summary>
    public double Latest => Count == 0 ? double.NaN : _values[(_next + _values.Length - 1) % _values.Length];

    /// <summary>Adds a value, dropping the oldest when full.</summary>
    public void Add(double value)
    {
        _values[_next] = value;
        _next = (_next + 1) % _values.Length;
        Count = Math.Min(Count + 1, _values.Length);
    }

    /// <summary>The median of the finite values kept; NaN when there are none. O(capacity) time, no allocation up to 256 values.</summary>
    public double Median()
    {
        Span<double> finite = Count <= 256 ? stackalloc double[Count] : new double[Count];
        int n = 0;
        for (int i = 0; i < Count; i++)
        {
            if (double.IsFinite(_values[i]))
            {
                finite[n++] = _values[i];
            }
        }

        if (n == 0)
        {
            return double.NaN;
        }

        Span<double> used = finite[..n];
        used.Sort();
        return n % 2 == 1 ? used[n / 2] : (used[(n / 2) - 1] + used[n / 2]) / 2;
    }

    /// <summary>The state to save with a checkpoint: the ring buffer as stored, so later adds replace the same slots.</summary>
    public WindowState SaveState() => new() { Values = [.. _values.AsSpan(0, Count)], Next = _next };

    /// <summary>Restores a state saved by <see cref="SaveState"/> from a window of the same capacity.</summary>
    /// <exception cref="InvalidDataException">The saved window does not fit this one.</exception>
    public void LoadState(WindowState state)
    {
        int count = state.Values.Count;
        bool valid = count <= _values.Length && state.Next >= 0 && state.Next < _values.Length && (count == _values.Length || state.Next == count);
        if (!valid)
        {
            throw new InvalidDataException($"A saved window of {count} values (next slot {state.Next}) does not fit a window of {_values.Length}.");
        }

        Array.Clear(_values);
        state.Values.CopyTo(_values);
        (Count, _next) = (count, state.Next);
    }
}
