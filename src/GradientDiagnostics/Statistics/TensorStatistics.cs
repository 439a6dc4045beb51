using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDiagnostics;

/// <summary>
/// Exact element statistics of one tensor, or of several tensors taken together (see <see cref="Combine"/>).
/// Sums are accumulated in double precision over the finite elements, so a tensor of finite 1e30 values reports
/// ≈ 1e30·√n rather than overflowing; NaN and ±Infinity elements are counted separately and make the derived
/// norms NaN or +Infinity, as <c>torch.linalg.vector_norm</c> would.
/// </summary>
public readonly record struct TensorStatistics
{
    /// <summary>The number of elements, finite or not.</summary>
    public long ElementCount { get; init; }

    /// <summary>Σ x² over the finite elements, in double precision.</summary>
    public double SumOfSquares { get; init; }

    /// <summary>Σ |x| over the finite elements, in double precision.</summary>
    public double SumOfMagnitudes { get; init; }

    /// <summary>max |x| over the finite elements; 0 when there are none.</summary>
    public double MaxFiniteMagnitude { get; init; }

    /// <summary>The number of elements exactly equal to zero (±0).</summary>
    public long ZeroCount { get; init; }

    /// <summary>The number of NaN elements.</summary>
    public long NaNCount { get; init; }

    /// <summary>The number of +Infinity or −Infinity elements.</summary>
    public long InfinityCount { get; init; }

    /// <summary>NaN plus ±Infinity elements.</summary>
    public long NonFiniteCount => NaNCount + InfinityCount;

    /// <summary>True when every element is finite.</summary>
    public bool IsFinite => NaNCount == 0 && InfinityCount == 0;

    /// <summary>The L2 norm √(Σ x²); NaN when any element is NaN, +Infinity when any is infinite.</summary>
    public double L2Norm => NonFiniteOr(Math.Sqrt(SumOfSquares));

    /// <summary>The L∞ norm max |x|; NaN when any element is NaN, +Infinity when any is infinite.</summary>
    public double MaxMagnitude => NonFiniteOr(MaxFiniteMagnitude);

    /// <summary>The mean magnitude Σ|x| / n; 0 for no elements; NaN / +Infinity as for <see cref="L2Norm"/>.</summary>
    public double MeanMagnitude => ElementCount == 0 ? 0 : NonFiniteOr(SumOfMagnitudes / ElementCount);

    /// <summary>The root mean square √(Σ x² / n); 0 for no elements; NaN / +Infinity as for <see cref="L2Norm"/>.</summary>
    public double RootMeanSquare => ElementCount == 0 ? 0 : NonFiniteOr(Math.Sqrt(SumOfSquares / ElementCount));

    /// <summary>The fraction of elements exactly equal to zero, in [0, 1]; 0 for no elements.</summary>
    public double ZeroFraction => ElementCount == 0 ? 0 : (double)ZeroCount / ElementCount;

    private double NonFiniteOr(double value) => NaNCount > 0 ? double.NaN : InfinityCount > 0 ? double.PositiveInfinity : value;

    /// <summary>The statistics of the union of the elements of two tensors.</summary>
    public static TensorStatistics Combine(in TensorStatistics left, in TensorStatistics right) => new()
    {
        ElementCount = left.ElementCount + right.ElementCount,
        SumOfSquares = left.SumOfSquares + right.SumOfSquares,
        SumOfMagnitudes = left.SumOfMagnitudes + right.SumOfMagnitudes,
        MaxFiniteMagnitude = Math.Max(left.MaxFiniteMagnitude, right.MaxFiniteMagnitude),
        ZeroCount = left.ZeroCount + right.ZeroCount,
        NaNCount = left.NaNCount + right.NaNCount,
        InfinityCount = left.InfinityCount + right.InfinityCount,
    };

    /// <summary>Computes the statistics of a tensor's elements in one pass.</summary>
    /// <param name="values">The elements, in any order.</param>
    public static TensorStatistics Compute(ReadOnlySpan<float> values)
    {
        // A fused single pass (squares and magnitudes widened to double, max, zero count, finiteness) reads each
        // element once; TensorPrimitives would need four passes and accumulates squares in float, which overflows
        // past ~1.8e19. A non-finite element sends the tensor down the exact scalar path, which counts NaN and ±Inf.
        if (Vector256.IsHardwareAccelerated && values.Length >= Vector256<float>.Count &&
            TryComputeFiniteVectorized(values, out TensorStatistics statistics))
        {
            return statistics;
        }

        return ComputeScalar(values);
    }

    /// <summary>Computes the statistics of a tensor's elements, dense or strided.</summary>
    /// <param name="values">The elements, in any layout.</param>
    public static TensorStatistics Compute(in ReadOnlyTensorSpan<float> values)
    {
        if (values.IsDense && values.FlattenedLength <= int.MaxValue)
        {
            return Compute(MemoryMarshal.CreateReadOnlySpan(in values.GetPinnableReference(), (int)values.FlattenedLength));
        }

        float[] dense = new float[values.FlattenedLength];
        values.FlattenTo(dense);
        return Compute(dense);
    }

    /// <summary>Computes the statistics of a double-precision tensor's elements. Squares are accumulated in double,
    /// so finite elements above ~1.3e154 in magnitude overflow <see cref="SumOfSquares"/> to +Infinity.</summary>
    /// <param name="values">The elements, in any order.</param>
    public static TensorStatistics Compute(ReadOnlySpan<double> values)
    {
        var accumulator = new ScalarAccumulator();
        foreach (double x in values)
        {
            accumulator.Add(x);
        }

        return accumulator.ToStatistics(values.Length);
    }

    private static TensorStatistics ComputeScalar(ReadOnlySpan<float> values)
    {
        var accumulator = new ScalarAccumulator();
        foreach (float x in values)
        {
            accumulator.Add(x);
        }

        return accumulator.ToStatistics(values.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool TryComputeFiniteVectorized(ReadOnlySpan<float> values, out TensorStatistics statistics)
    {
        ref float start = ref MemoryMarshal.GetReference(values);
        int length = values.Length;
        int vectorEnd = length - (length % Vector256<float>.Count);
        var maxFinite = Vector256.Create(float.MaxValue);
        Vector256<double> squares0 = Vector256<double>.Zero, squares1 = Vector256<double>.Zero;
        Vector256<double> magnitudes0 = Vector256<double>.Zero, magnitudes1 = Vector256<double>.Zero;
        Vector256<float> max = Vector256<float>.Zero;
        Vector256<int> zeros = Vector256<int>.Zero;
        Vector256<float> finite = Vector256<float>.AllBitsSet;

        for (int i = 0; i < vectorEnd; i += Vector256<float>.Count)
        {
            Vector256<float> x = Vector256.LoadUnsafe(ref start, (nuint)i);
            Vector256<float> magnitude = Vector256.Abs(x);
            (Vector256<double> low, Vector256<double> high) = Vector256.Widen(magnitude);
            squares0 = Vector256.FusedMultiplyAdd(low, low, squares0);
            squares1 = Vector256.FusedMultiplyAdd(high, high, squares1);
            magnitudes0 += low;
            magnitudes1 += high;
            max = Vector256.MaxNative(max, magnitude);
            finite &= Vector256.LessThanOrEqual(magnitude, maxFinite);
            zeros -= Vector256.Equals(x, Vector256<float>.Zero).AsInt32();
        }

        // Compare the mask as integers: all-bits-set is a NaN pattern, and NaN != NaN as floats.
        if (!Vector256.EqualsAll(finite.AsInt32(), Vector256<int>.AllBitsSet))
        {
            statistics = default;
            return false;
        }

        var tail = new ScalarAccumulator();
        for (int i = vectorEnd; i < length; i++)
        {
            tail.Add(Unsafe.Add(ref start, i));
        }

        if (tail.NaNCount + tail.InfinityCount > 0)
        {
            statistics = default;
            return false;
        }

        statistics = new TensorStatistics
        {
            ElementCount = length,
            SumOfSquares = Vector256.Sum(squares0 + squares1) + tail.SumOfSquares,
            SumOfMagnitudes = Vector256.Sum(magnitudes0 + magnitudes1) + tail.SumOfMagnitudes,
            MaxFiniteMagnitude = Math.Max(HorizontalMax(max), tail.MaxFiniteMagnitude),
            ZeroCount = Vector256.Sum(zeros) + tail.ZeroCount,
        };
        return true;
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        float m = 0;
        for (int i = 0; i < Vector256<float>.Count; i++)
        {
            m = Math.Max(m, v.GetElement(i));
        }

        return m;
    }

    private struct ScalarAccumulator
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
}
