namespace GradientDiagnostics;

/// <summary>Maps positive values to pixels on a base-10 logarithmic axis spanning whole decades.</summary>
internal readonly struct LogScale
{
    private readonly double _top;
    private readonly double _height;

    private LogScale(int minExponent, int maxExponent, double top, double height)
    {
        MinExponent = minExponent;
        MaxExponent = maxExponent;
        _top = top;
        _height = height;
    }

    public int MinExponent { get; }

    public int MaxExponent { get; }

    /// <summary>An axis covering every finite positive value given (1e-8..1 when there are none).</summary>
    public static LogScale Covering(IEnumerable<double> values, double top, double height)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (double.IsFinite(v) && v > 0)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }

        if (double.IsPositiveInfinity(min))
        {
            return new LogScale(-8, 0, top, height);
        }

        int low = (int)Math.Floor(Math.Log10(min));
        int high = (int)Math.Ceiling(Math.Log10(max));
        return new LogScale(low, high == low ? low + 1 : high, top, height);
    }

    /// <summary>The y pixel of a positive value; values outside the axis are clamped to its ends.</summary>
    public double Y(double value)
    {
        double exponent = Math.Clamp(Math.Log10(value), MinExponent, MaxExponent);
        return _top + ((MaxExponent - exponent) / (MaxExponent - MinExponent) * _height);
    }

    /// <summary>The decades to label: every one, or every k-th so that at most ten labels are drawn.</summary>
    public IEnumerable<int> TickExponents()
    {
        int stride = Math.Max(1, (int)Math.Ceiling((MaxExponent - MinExponent) / 10.0));
        for (int e = MinExponent; e <= MaxExponent; e += stride)
        {
            yield return e;
        }
    }
}
