using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDiagnostics;

/// <summary>
/// Element statistics of one tensor, or of several tensors taken together (see <see cref="Combine"/>).
/// Sums are accumulated over the finite elements into double precision, so a tensor of finite 1e30 values reports
/// ≈ 1e30·√n rather than overflowing; float32 tensors are summed in short float blocks flushed to double, within 1e-5
/// relative of the exact sums. Counts and the max are exact. NaN and ±Infinity elements are counted separately and make
/// the derived norms NaN or +Infinity, as <c>torch.linalg.vector_norm</c> would.
/// </summary>
public readonly record struct TensorStatistics
{
    /// <summary>The number of elements, finite or not.</summary>
    public long ElementCount { get; init; }

    /// <summary>Σ x² over the finite elements, in double precision (within 1e-5 relative for float32 input).</summary>
    public double SumOfSquares { get; init; }

    /// <summary>Σ |x| over the finite elements, in double precision (within 1e-5 relative for float32 input).</summary>
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
    /// <remarks>Finite tensors are summed in float over short blocks and flushed to double per block, so
    /// <see cref="SumOfSquares"/> and <see cref="SumOfMagnitudes"/> are within 1e-5 relative of the exact double sums (see
    /// <c>TensorStatisticsKernel.FloatBlockIterations</c>); counts and <see cref="MaxFiniteMagnitude"/> are exact.</remarks>
    public static TensorStatistics Compute(ReadOnlySpan<float> values)
    {
        // A fused single pass (squares, magnitudes, max, zero count, finiteness) reads each element once; TensorPrimitives
        // would need four passes and accumulates squares in float over the whole tensor, which overflows past ~1.8e19.
        // A non-finite element sends the tensor down the exact scalar path, which counts NaN and ±Inf.
        if (Vector256.IsHardwareAccelerated && values.Length >= Vector256<float>.Count &&
            TensorStatisticsKernel.TryComputeFiniteVectorized(values, out TensorStatistics statistics))
        {
            return statistics;
        }

        return TensorStatisticsKernel.ComputeScalar(values);
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
    public static TensorStatistics Compute(ReadOnlySpan<double> values) =>
        Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<double>.Count &&
        TensorStatisticsKernel.TryComputeFiniteVectorized(values, out TensorStatistics statistics)
            ? statistics
            : TensorStatisticsKernel.ComputeScalar(values);
}
