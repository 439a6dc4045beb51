using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GradientDiagnostics;

/// <summary>The vectorized pass's running totals, in double, fed one block at a time by
/// <see cref="TensorStatisticsKernel.TryComputeFiniteVectorized(ReadOnlySpan{float}, out TensorStatistics)"/>.</summary>
internal struct BlockAccumulator
{
    public double Squares;
    public double Magnitudes;
    public float Max;
    public long ZeroCount;

    /// <summary>Sums a block (a multiple of the vector width, at most
    /// <see cref="TensorStatisticsKernel.FloatBlockIterations"/> iterations of four vectors) in float lanes, magnitudes
    /// multiplied by <paramref name="scale"/> (an exact power of two; 1 for none), with the <see cref="ReadAhead"/> hint
    /// when <paramref name="readAhead"/>, and adds it, when every element is
    /// finite and the scaled magnitudes are float-safe; otherwise adds nothing. <paramref name="blockMax"/> is the block's
    /// max |x| when its sums were finite, NaN otherwise. Zeros are counted from compare bit masks (integer work, off the
    /// vector units that the sums keep busy).</summary>
    public bool TryAddFloatBlock<TLanes, TVector>(ref float block, int blockLength, float scale, bool readAhead, out float blockMax)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct =>
        scale == 1
            ? TryAddFloatBlock<TLanes, TVector, Unscaled>(ref block, blockLength, 1, readAhead, out blockMax)
            : TryAddFloatBlock<TLanes, TVector, Scaled>(ref block, blockLength, scale, readAhead, out blockMax);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryAddFloatBlock<TLanes, TVector, TScaling>(ref float block, int blockLength, float scale, bool readAhead, out float blockMax)
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
            if (readAhead)
            {
                ReadAhead.Lines(ref Unsafe.Add(ref block, i), 4 * count * sizeof(float));
            }

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
        if (!TensorStatisticsKernel.IsFloatSafe(scaledMax))
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
