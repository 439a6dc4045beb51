namespace GradientDiagnostics;

/// <summary>The exact scalar pass's running totals, in double: the kernel's path for non-finite and short tensors, and
/// for the tail of a vectorized pass that does not fill a vector.</summary>
internal struct ScalarAccumulator
{
    public double SumOfSquares;
    public double SumOfMagnitudes;
    public double MaxFiniteMagnitude;
    public long ZeroCount;
    public long NaNCount;
    public long InfinityCount;

    public void Add(double x)
    {
        if (double.IsNaN(x))
        {
            NaNCount++;
        }
        else if (double.IsInfinity(x))
        {
            InfinityCount++;
        }
        else
        {
            double magnitude = Math.Abs(x);
            SumOfSquares += magnitude * magnitude;
            SumOfMagnitudes += magnitude;
            MaxFiniteMagnitude = Math.Max(MaxFiniteMagnitude, magnitude);
            if (magnitude == 0)
            {
                ZeroCount++;
            }
        }
    }

    public readonly TensorStatistics ToStatistics(long count) => new()
    {
        ElementCount = count,
        SumOfSquares = SumOfSquares,
        SumOfMagnitudes = SumOfMagnitudes,
        MaxFiniteMagnitude = MaxFiniteMagnitude,
        ZeroCount = ZeroCount,
        NaNCount = NaNCount,
        InfinityCount = InfinityCount,
    };
}
