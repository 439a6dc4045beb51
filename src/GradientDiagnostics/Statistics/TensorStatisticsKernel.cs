using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDiagnostics;

/// <summary>
/// The statistics kernel behind <see cref="TensorStatistics.Compute(ReadOnlySpan{float})"/>: one fused vectorized pass
/// (squares, magnitudes, max, zero count, finiteness) over float blocks flushed to double, generic over the hardware
/// vector width (<see cref="IFloatLanes{TVector}"/>), and the exact scalar pass for non-finite tensors. Kept out of the
/// public struct so its type stays a plain description of the numbers.
/// </summary>
internal static class TensorStatisticsKernel
{
    /// <summary>The exact scalar pass, in double: the path for non-finite tensors and short ones.</summary>
    public static TensorStatistics ComputeScalar(ReadOnlySpan<double> values)
    {
        var accumulator = new ScalarAccumulator();
        foreach (double x in values)
        {
            accumulator.Add(x);
        }

        return accumulator.ToStatistics(values.Length);
    }

    /// <summary>
    /// The vectorized pass over double elements: squares, magnitudes, max and zero count in two interleaved sets of double
    /// lanes (no blocks: double lanes need no flush, and the error of recursive summation over n/lanes terms, (n/lanes)·2⁻⁵³
    /// relative, stays far below float's). Returns false when a sum comes out non-finite (a NaN or ±∞ element, or a finite
    /// Σx² beyond double's range), which the exact scalar pass then measures.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool TryComputeFiniteVectorized(ReadOnlySpan<double> values, out TensorStatistics statistics)
    {
        ReadOnlySpan<Vector<double>> vectors = MemoryMarshal.Cast<double, Vector<double>>(values);
        Vector<double> squares0 = default, squares1 = default, magnitudes0 = default, magnitudes1 = default, max = default;
        Vector<long> zeros = default;
        bool readAhead = ReadAhead.For((long)values.Length * sizeof(double));
        int i = 0;
        for (; i + 1 < vectors.Length; i += 2)
        {
            if (readAhead)
            {
                ReadAhead.Lines(ref Unsafe.AsRef(in vectors[i]), 2 * Vector<byte>.Count);
            }

            Vector<double> a = vectors[i], b = vectors[i + 1];
            Vector<double> absA = Vector.Abs(a), absB = Vector.Abs(b);
            squares0 = Vector.FusedMultiplyAdd(a, a, squares0);
            squares1 = Vector.FusedMultiplyAdd(b, b, squares1);
            magnitudes0 += absA;
            magnitudes1 += absB;
            max = Vector.Max(max, Vector.Max(absA, absB));
            zeros -= Vector.Equals(a, Vector<double>.Zero) + Vector.Equals(b, Vector<double>.Zero);
        }

        var tail = new ScalarAccumulator();
        foreach (double x in values[(i * Vector<double>.Count)..])
        {
            tail.Add(x);
        }

        double sumOfSquares = Vector.Sum(squares0 + squares1) + tail.SumOfSquares;
        double sumOfMagnitudes = Vector.Sum(magnitudes0 + magnitudes1) + tail.SumOfMagnitudes;
        if (!double.IsFinite(sumOfSquares) || !double.IsFinite(sumOfMagnitudes) || tail.NaNCount + tail.InfinityCount > 0)
        {
            statistics = default;
            return false;
        }

        double largest = tail.MaxFiniteMagnitude;
        for (int lane = 0; lane < Vector<double>.Count; lane++)
        {
            largest = Math.Max(largest, max[lane]);
        }

        statistics = new TensorStatistics
        {
            ElementCount = values.Length,
            SumOfSquares = sumOfSquares,
            SumOfMagnitudes = sumOfMagnitudes,
            MaxFiniteMagnitude = largest,
            ZeroCount = Vector.Sum(zeros) + tail.ZeroCount,
        };
        return true;
    }

    /// <summary>The exact scalar pass over float elements, each widened to double.</summary>
    public static TensorStatistics ComputeScalar(ReadOnlySpan<float> values)
    {
        var accumulator = new ScalarAccumulator();
        foreach (float x in values)
        {
            accumulator.Add(x);
        }

        return accumulator.ToStatistics(values.Length);
    }

    /// <summary>
    /// Iterations of four float vectors per block: each float lane adds at most this many terms before the block is flushed
    /// to double. Recursive summation of n non-negative terms errs by at most (n − 1)·u relative (Higham, "Accuracy and
    /// Stability of Numerical Algorithms", 2nd ed., §4.2), plus u for rounding each square, with u = 2⁻²⁴; so 128 gives
    /// at most 130·2⁻²⁴ ≈ 7.7e-6 relative (two more roundings add the four accumulators), inside the 1e-5 this type promises.
    /// </summary>
    internal const int FloatBlockIterations = 128;

    /// <summary>Blocks whose max |x| is at or below this (2⁵⁸ ≈ 2.9e17) cannot overflow a float lane: four accumulators
    /// of 128 squares of at most 2¹¹⁶ stay below 2¹²⁵, under float.MaxValue ≈ 2¹²⁸. Larger blocks are scaled down by an exact power of two.</summary>
    private const float FloatBlockMaxMagnitude = 2.8823037615171174e17f;

    /// <summary>Blocks whose max |x| is at or above this (2⁻⁵⁰ ≈ 8.9e-16), or exactly 0, lose nothing that matters to
    /// float's subnormal range: a subnormal rounding error (≤ 2⁻¹⁵⁰ per add) is below 2⁻³⁸ of the block's Σx² ≥ 2⁻¹⁰⁰.
    /// Tinier blocks (vanishing gradients) are scaled up by an exact power of two, which brings their max into [1, 2): the
    /// same bounds then hold for the scaled values, and dividing the sums by the power of two is exact. Only blocks whose
    /// max is itself subnormal (the power would not be a normal float) are summed in double.</summary>
    private const float FloatBlockMinMagnitude = 8.8817841970012523e-16f;

    /// <summary>The vectorized pass at the widest accelerated width: 512-bit lanes where AVX-512 is available (half the
    /// instructions per element, which is what limits the pass on data in cache), else 256-bit lanes.</summary>
    internal static bool TryComputeFiniteVectorized(ReadOnlySpan<float> values, out TensorStatistics statistics) =>
        Vector512.IsHardwareAccelerated
            ? TryComputeFiniteVectorized<FloatLanes512, Vector512<float>>(values, out statistics)
            : TryComputeFiniteVectorized<FloatLanes256, Vector256<float>>(values, out statistics);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool TryComputeFiniteVectorized<TLanes, TVector>(ReadOnlySpan<float> values, out TensorStatistics statistics)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        ref float start = ref MemoryMarshal.GetReference(values);
        int length = values.Length;
        int vectorEnd = length - (length % TLanes.Count);
        int blockLength = FloatBlockIterations * 4 * TLanes.Count;
        bool readAhead = ReadAhead.For((long)length * sizeof(float));
        var accumulator = new BlockAccumulator();

        // Each block is summed in float when its magnitudes allow it, scaled by an exact power of two when they are tiny
        // (vanishing gradients) or huge; else (subnormal-only blocks, or float sums that come out non-finite: a NaN / ±Inf
        // element) in double. The scale that fitted one block is tried first on the next, so a tensor of tiny values is
        // read once; after a block that needed double, the next starts in double.
        float scale = 1;
        bool preferDouble = false;
        for (int blockStart = 0; blockStart < vectorEnd; blockStart += blockLength)
        {
            int thisBlockLength = Math.Min(blockLength, vectorEnd - blockStart);
            ref float block = ref Unsafe.Add(ref start, blockStart);
            if (!preferDouble)
            {
                if (accumulator.TryAddFloatBlock<TLanes, TVector>(ref block, thisBlockLength, scale, readAhead, out float seenMax))
                {
                    continue;
                }

                float fitted = ScaleFor(seenMax);
                if (seenMax > 0 && fitted != 0 && fitted != scale &&
                    accumulator.TryAddFloatBlock<TLanes, TVector>(ref block, thisBlockLength, fitted, readAhead, out _))
                {
                    scale = fitted;
                    continue;
                }
            }

            if (!accumulator.TryAddDoubleBlock(ref block, thisBlockLength, out float blockMax))
            {
                statistics = default;
                return false;
            }

            float next = ScaleFor(blockMax);
            preferDouble = blockMax > 0 && next == 0;
            scale = next == 0 ? scale : next;
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
            SumOfSquares = accumulator.Squares + tail.SumOfSquares,
            SumOfMagnitudes = accumulator.Magnitudes + tail.SumOfMagnitudes,
            MaxFiniteMagnitude = Math.Max(accumulator.Max, tail.MaxFiniteMagnitude),
            ZeroCount = accumulator.ZeroCount + tail.ZeroCount,
        };
        return true;
    }

    /// <summary>The power of two that brings <paramref name="max"/> into [1, 2), when it is a normal float (so the scaling
    /// is exact); 0 when <paramref name="max"/> is subnormal, beyond 2¹²⁶, NaN or 0.</summary>
    private static float ScaleFor(float max)
    {
        int exponent = MathF.ILogB(max);
        return max > 0 && float.IsFinite(max) && exponent is >= -126 and <= 126 ? MathF.ScaleB(1f, -exponent) : 0;
    }

    /// <summary>Whether a block whose scaled max |x| is <paramref name="blockMax"/> can be summed in float lanes without
    /// overflow or a loss to float's subnormal range (see the two magnitude bounds).</summary>
    internal static bool IsFloatSafe(float blockMax) =>
        blockMax <= FloatBlockMaxMagnitude && (blockMax >= FloatBlockMinMagnitude || blockMax == 0);
}
