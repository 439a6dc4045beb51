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
                if (accumulator.TryAddFloatBlock<TLanes, TVector>(ref block, thisBlockLength, scale, out float seenMax))
                {
                    continue;
                }

                float fitted = ScaleFor(seenMax);
                if (seenMax > 0 && fitted != 0 && fitted != scale &&
                    accumulator.TryAddFloatBlock<TLanes, TVector>(ref block, thisBlockLength, fitted, out _))
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

    private static bool IsFloatSafe(float blockMax) =>
        blockMax <= FloatBlockMaxMagnitude && (blockMax >= FloatBlockMinMagnitude || blockMax == 0);

    /// <summary>The vectorized pass's running totals, in double, fed one block at a time.</summary>
    private struct BlockAccumulator
    {
        public double Squares;
        public double Magnitudes;
        public float Max;
        public long ZeroCount;

        /// <summary>Sums a block (a multiple of the vector width, at most <see cref="FloatBlockIterations"/> iterations of
        /// four vectors) in float lanes, magnitudes multiplied by <paramref name="scale"/> (an exact power of two; 1 for
        /// none), and adds it, when every element is finite and the scaled magnitudes are float-safe; otherwise adds
        /// nothing. <paramref name="blockMax"/> is the block's max |x| when its sums were finite, NaN otherwise. Zeros are
        /// counted from compare bit masks (integer work, off the vector units that the sums keep busy).</summary>
        public bool TryAddFloatBlock<TLanes, TVector>(ref float block, int blockLength, float scale, out float blockMax)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct =>
            scale == 1
                ? TryAddFloatBlock<TLanes, TVector, Unscaled>(ref block, blockLength, 1, out blockMax)
                : TryAddFloatBlock<TLanes, TVector, Scaled>(ref block, blockLength, scale, out blockMax);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private bool TryAddFloatBlock<TLanes, TVector, TScaling>(ref float block, int blockLength, float scale, out float blockMax)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            where TScaling : struct, IBlockScaling
        {
            int count = TLanes.Count;
            TVector squares0 = TLanes.Zero, squares1 = TLanes.Zero, squares2 = TLanes.Zero, squares3 = TLanes.Zero;
            TVector magnitudes0 = TLanes.Zero, magnitudes1 = TLanes.Zero, magnitudes2 = TLanes.Zero, magnitudes3 = TLanes.Zero;
            TVector max = TLanes.Zero;
            long zeros = 0;
            int unrolledEnd = blockLength - (blockLength % (4 * count));
            int i = 0;
            for (; i < unrolledEnd; i += 4 * count)
            {
                TVector x0 = TLanes.Load(ref block, i), x1 = TLanes.Load(ref block, i + count);
                TVector x2 = TLanes.Load(ref block, i + (2 * count)), x3 = TLanes.Load(ref block, i + (3 * count));
                TVector a0 = TLanes.Abs(x0), a1 = TLanes.Abs(x1), a2 = TLanes.Abs(x2), a3 = TLanes.Abs(x3);
                if (TScaling.Scales)
                {
                    a0 = TLanes.Multiply(a0, scale);
                    a1 = TLanes.Multiply(a1, scale);
                    a2 = TLanes.Multiply(a2, scale);
                    a3 = TLanes.Multiply(a3, scale);
                }

                squares0 = TLanes.SquareAdd(a0, squares0);
                squares1 = TLanes.SquareAdd(a1, squares1);
                squares2 = TLanes.SquareAdd(a2, squares2);
                squares3 = TLanes.SquareAdd(a3, squares3);
                magnitudes0 = TLanes.Add(magnitudes0, a0);
                magnitudes1 = TLanes.Add(magnitudes1, a1);
                magnitudes2 = TLanes.Add(magnitudes2, a2);
                magnitudes3 = TLanes.Add(magnitudes3, a3);
                max = TLanes.Max(max, TLanes.Max(TLanes.Max(a0, a1), TLanes.Max(a2, a3)));
                zeros += BitOperations.PopCount(TLanes.ZeroBits(x0) | (TLanes.ZeroBits(x1) << count) |
                    (TLanes.ZeroBits(x2) << (2 * count)) | (TLanes.ZeroBits(x3) << (3 * count)));
            }

            for (; i < blockLength; i += count)
            {
                TVector x = TLanes.Load(ref block, i);
                TVector a = TScaling.Scales ? TLanes.Multiply(TLanes.Abs(x), scale) : TLanes.Abs(x);
                squares0 = TLanes.SquareAdd(a, squares0);
                magnitudes0 = TLanes.Add(magnitudes0, a);
                max = TLanes.Max(max, a);
                zeros += BitOperations.PopCount(TLanes.ZeroBits(x));
            }

            // A NaN or ±Inf element, or an overflow, makes the float sum of squares non-finite (only non-negative terms are
            // added, so nothing cancels); Max may then have dropped the NaN, so the sums, not the max, decide.
            TVector squares = TLanes.Add(TLanes.Add(squares0, squares1), TLanes.Add(squares2, squares3));
            TVector magnitudes = TLanes.Add(TLanes.Add(magnitudes0, magnitudes1), TLanes.Add(magnitudes2, magnitudes3));
            float scaledMax = TLanes.HorizontalMax(max);
            if (!TLanes.AllFinite(squares) || !TLanes.AllFinite(magnitudes))
            {
                blockMax = float.NaN;
                return false;
            }

            blockMax = scaledMax / scale;
            if (!IsFloatSafe(scaledMax))
            {
                return false;
            }

            // Dividing by a power of two is exact in double.
            Squares += TLanes.SumInDouble(squares) / ((double)scale * scale);
            Magnitudes += TLanes.SumInDouble(magnitudes) / scale;
            Max = Math.Max(Max, blockMax);
            ZeroCount += zeros;
            return true;
        }

        /// <summary>Sums a block with every square and magnitude widened to double, exact for any finite float; returns
        /// false, adding nothing, when an element is NaN or ±Inf.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool TryAddDoubleBlock(ref float block, int blockLength, out float blockMax)
        {
            var maxFinite = Vector256.Create(float.MaxValue);
            Vector256<double> squares0 = Vector256<double>.Zero, squares1 = Vector256<double>.Zero;
            Vector256<double> magnitudes0 = Vector256<double>.Zero, magnitudes1 = Vector256<double>.Zero;
            Vector256<float> max = Vector256<float>.Zero;
            Vector256<int> zeros = Vector256<int>.Zero;
            Vector256<float> finite = Vector256<float>.AllBitsSet;
            for (int i = 0; i < blockLength; i += Vector256<float>.Count)
            {
                Vector256<float> x = Vector256.LoadUnsafe(ref block, (nuint)i);
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

            blockMax = FloatLanes256.HorizontalMax(max);
            // Compare the mask as integers: all-bits-set is a NaN pattern, and NaN != NaN as floats.
            if (!Vector256.EqualsAll(finite.AsInt32(), Vector256<int>.AllBitsSet))
            {
                return false;
            }

            Squares += Vector256.Sum(squares0 + squares1);
            Magnitudes += Vector256.Sum(magnitudes0 + magnitudes1);
            Max = Math.Max(Max, blockMax);
            ZeroCount += Vector256.Sum(zeros);
            return true;
        }
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
