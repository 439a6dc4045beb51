using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDiagnostics.Adapters;

/// <summary>
/// Element statistics of a 16-bit tensor (float16 or bfloat16), or of several of one format taken together
/// (<see cref="Combine"/>), read once: <see cref="Values"/> over the elements widened to float32 (an exact conversion),
/// squared and summed in double precision, never in 16 bits (a 16-bit value's square is exact in double, so the sums
/// are within ~1e-15·n relative of the exact ones); and, on the values as stored, how many are zero or subnormal and
/// how far the largest is from the format's largest finite value.
/// </summary>
public readonly record struct SixteenBitStatistics
{
    /// <summary>Elements widened per chunk: 4,096 floats (16 KB) stay in the first-level cache between the conversion
    /// and the statistics pass.</summary>
    private const int ChunkElements = 4096;

    /// <summary>The 16-bit format of the elements (<see cref="NumericFormat.Float16"/> or <see cref="NumericFormat.BFloat16"/>).</summary>
    public NumericFormat Format { get; init; }

    /// <summary>The statistics of the elements widened to float32, sums in double precision (see <see cref="TensorStatistics"/>).
    /// The widening is exact, so the counts and the max are those of the values as stored.</summary>
    public TensorStatistics Values { get; init; }

    /// <summary>The number of elements that are ±0 or subnormal as stored (exponent field 0: below 2⁻¹⁴ in float16,
    /// below 2⁻¹²⁶ in bfloat16).</summary>
    public long ZeroOrSubnormalCount { get; init; }

    /// <summary>The fraction of elements that are zero or subnormal as stored, in [0, 1]; 0 for no elements.</summary>
    public double UnderflowFraction => Values.ElementCount == 0 ? 0 : (double)ZeroOrSubnormalCount / Values.ElementCount;

    /// <summary>log₂(format's largest finite value / max|x| as stored), in bits: how many doublings (of a loss scale)
    /// the largest element can take before it overflows. 0 when an element is already NaN or ±Infinity (it overflowed);
    /// +Infinity when every element is 0.</summary>
    public double OverflowHeadroomBits => !Values.IsFinite ? 0
        : Values.MaxFiniteMagnitude == 0 ? double.PositiveInfinity
        : Math.Log2(Format.MaxValue() / Values.MaxFiniteMagnitude);

    /// <summary>The statistics of the union of two sets of elements. Mixing float16 and bfloat16 reports as float16,
    /// the format with the smaller range.</summary>
    public static SixteenBitStatistics Combine(in SixteenBitStatistics left, in SixteenBitStatistics right) => new()
    {
        Format = left.Format == right.Format || right.Format == NumericFormat.Unknown ? left.Format
            : left.Format == NumericFormat.Unknown ? right.Format : NumericFormat.Float16,
        Values = TensorStatistics.Combine(left.Values, right.Values),
        ZeroOrSubnormalCount = left.ZeroOrSubnormalCount + right.ZeroOrSubnormalCount,
    };

    /// <summary>Reads float16 elements once: widened chunk by chunk into a pooled float buffer
    /// (<see cref="TensorPrimitives.ConvertToSingle(ReadOnlySpan{Half}, Span{float})"/>), no float64 copy.</summary>
    /// <param name="values">The elements, in any order.</param>
    public static SixteenBitStatistics Compute(ReadOnlySpan<Half> values) =>
        Read(MemoryMarshal.Cast<Half, ushort>(values), NumericFormat.Float16);

    /// <summary>Reads bfloat16 elements once, given as their 16-bit patterns (the upper half of a float32): widened chunk
    /// by chunk into a pooled buffer (zero-extended, shifted left 16 bits, which is exact), no float64 copy.</summary>
    /// <param name="bits">The elements' bit patterns, in any order.</param>
    public static SixteenBitStatistics ComputeBFloat16(ReadOnlySpan<ushort> bits) => Read(bits, NumericFormat.BFloat16);

    private static SixteenBitStatistics Read(ReadOnlySpan<ushort> bits, NumericFormat format)
    {
        float[] buffer = ArrayPool<float>.Shared.Rent(Math.Min(ChunkElements, Math.Max(bits.Length, 1)));
        try
        {
            TensorStatistics statistics = default;
            for (int offset = 0; offset < bits.Length; offset += ChunkElements)
            {
                ReadOnlySpan<ushort> chunk = bits.Slice(offset, Math.Min(ChunkElements, bits.Length - offset));
                Span<float> widened = buffer.AsSpan(0, chunk.Length);
                if (format == NumericFormat.Float16)
                {
                    TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(chunk), widened);
                }
                else
                {
                    Span<uint> patterns = MemoryMarshal.Cast<float, uint>(widened);
                    TensorPrimitives.ConvertTruncating<ushort, uint>(chunk, patterns);
                    TensorPrimitives.ShiftLeft<uint>(patterns, 16, patterns);
                }

                statistics = TensorStatistics.Combine(statistics, SixteenBitKernel.Compute(widened));
            }

            return new SixteenBitStatistics
            {
                Format = format,
                Values = statistics,
                ZeroOrSubnormalCount = CountZeroExponent(bits, format == NumericFormat.Float16 ? (ushort)0x7C00 : (ushort)0x7F80),
            };
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Counts the patterns whose exponent field (<paramref name="exponentMask"/>) is 0: ±0 and the subnormals.</summary>
    private static long CountZeroExponent(ReadOnlySpan<ushort> bits, ushort exponentMask)
    {
        long count = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<ushort> mask = Vector256.Create(exponentMask);
            ReadOnlySpan<Vector256<ushort>> vectors = MemoryMarshal.Cast<ushort, Vector256<ushort>>(bits);
            foreach (Vector256<ushort> v in vectors)
            {
                count += BitOperations.PopCount(Vector256.Equals(v & mask, Vector256<ushort>.Zero).ExtractMostSignificantBits());
            }

            i = vectors.Length * Vector256<ushort>.Count;
        }

        for (; i < bits.Length; i++)
        {
            count += (bits[i] & exponentMask) == 0 ? 1 : 0;
        }

        return count;
    }
}
