using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GradientDiagnostics;

/// <summary>The vectorized passes <see cref="ActivationAccumulator"/> makes over one output read in place: Σz in float
/// chunks, the count outside a saturation range, and the per-unit activity. No allocation beyond the reused counters.</summary>
internal static class ActivationCounting
{
    // Σz is summed in float over chunks of this many elements and flushed to double (≤ 512 terms per float lane).
    private const int SumChunk = 4096;

    /// <summary>Σz, exact to float rounding within a chunk.</summary>
    public static double Sum(ReadOnlySpan<float> values)
    {
        double sum = 0;
        for (int start = 0; start < values.Length; start += SumChunk)
        {
            sum += TensorPrimitives.Sum(values.Slice(start, Math.Min(SumChunk, values.Length - start)));
        }

        return sum;
    }

    /// <summary>Adds to <paramref name="active"/>[u] the number of samples on which unit u is active (z &gt; 0; every
    /// sample for sigmoid, whose output is always positive).</summary>
    /// <param name="values">The output's elements, laid out as [outer, units, inner].</param>
    /// <param name="units">The number of units.</param>
    /// <param name="inner">The contiguous elements of one unit within one sample (1 when the units are last).</param>
    /// <param name="active">One count per unit, added to.</param>
    /// <param name="rows">The samples per unit in <paramref name="values"/>.</param>
    /// <param name="following">The activation after the layer.</param>
    /// <param name="scratch">Per-unit counters reused across calls (grown when too small).</param>
    public static void CountActive(ReadOnlySpan<float> values, int units, int inner, Span<double> active, long rows, ActivationKind following,
        ref int[] scratch)
    {
        if (following == ActivationKind.Sigmoid)
        {
            TensorPrimitives.Add(active, rows, active);
            return;
        }

        if (inner > 1)
        {
            // Channels: each (sample, unit) is one contiguous run of `inner` elements.
            for (int start = 0, u = 0; start < values.Length; start += inner, u = u + 1 == units ? 0 : u + 1)
            {
                active[u] += CountAbove(values.Slice(start, inner), 0);
            }

            return;
        }

        // Units last: count across rows, one vector of units at a time.
        if (scratch.Length < units)
        {
            scratch = new int[units];
        }

        Span<int> counts = scratch.AsSpan(0, units);
        counts.Clear();
        ref int countsStart = ref MemoryMarshal.GetReference(counts);
        int vectorEnd = units - (units % Vector<float>.Count);
        for (int row = 0; row < values.Length; row += units)
        {
            ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(values), row);
            int u = 0;
            for (; u < vectorEnd; u += Vector<float>.Count)
            {
                Vector<int> count = Vector.LoadUnsafe(ref countsStart, (nuint)u);
                Vector<int> positive = Vector.GreaterThan(Vector.LoadUnsafe(ref x, (nuint)u), Vector<float>.Zero);
                (count - positive).StoreUnsafe(ref countsStart, (nuint)u);
            }

            for (; u < units; u++)
            {
                Unsafe.Add(ref countsStart, u) += Unsafe.Add(ref x, u) > 0 ? 1 : 0;
            }
        }

        for (int u = 0; u < units; u++)
        {
            active[u] += counts[u];
        }
    }

    /// <summary>The number of elements above <paramref name="threshold"/>.</summary>
    public static long CountAbove(ReadOnlySpan<float> values, float threshold) =>
        CountOutside(values, float.NegativeInfinity, threshold);

    /// <summary>The number of elements below <paramref name="low"/> or above <paramref name="high"/> (NaN is neither).</summary>
    public static long CountOutside(ReadOnlySpan<float> values, float low, float high)
    {
        ref float start = ref MemoryMarshal.GetReference(values);
        var lows = new Vector<float>(low);
        var highs = new Vector<float>(high);
        Vector<int> counts = Vector<int>.Zero;
        int vectorEnd = values.Length - (values.Length % Vector<float>.Count);
        int i = 0;
        for (; i < vectorEnd; i += Vector<float>.Count)
        {
            Vector<float> x = Vector.LoadUnsafe(ref start, (nuint)i);
            counts -= Vector.LessThan(x, lows) | Vector.GreaterThan(x, highs);
        }

        long count = Vector.Sum(counts);
        for (; i < values.Length; i++)
        {
            float x = Unsafe.Add(ref start, i);
            count += x < low || x > high ? 1 : 0;
        }

        return count;
    }

    /// <summary>Float bounds that classify every float exactly as the double bounds do: x &lt; low ⇔ (double)x &lt; L and
    /// x &gt; high ⇔ (double)x &gt; H.</summary>
    public static (float Low, float High) FloatBounds(double low, double high)
    {
        float l = (float)low, h = (float)high;
        return (l < low ? MathF.BitIncrement(l) : l, h > high ? MathF.BitDecrement(h) : h);
    }
}
