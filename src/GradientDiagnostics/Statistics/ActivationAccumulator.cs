using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GradientDiagnostics;

/// <summary>
/// Accumulates one layer's output statistics over the forward calls of one step (gradient accumulation, weight sharing
/// and time steps add up) and turns them into <see cref="ActivationStatistics"/>. Fed either with managed spans read in
/// place (a few vectorized passes: <see cref="TensorStatistics.Compute(ReadOnlySpan{float})"/> for Σz², zeros and
/// finiteness, then Σz, the saturated count and the per-unit activity), or with the same sums reduced on a device
/// (<see cref="AddSums"/>, laid out as <c>[Σz, Σz², zeros, saturated, active unit 0, …, active unit U−1]</c>).
/// </summary>
internal sealed class ActivationAccumulator(ActivationKind following, bool measureActivity)
{
    /// <summary>The number of sums before the per-unit activity counts in the <see cref="AddSums"/> layout.</summary>
    public const int FixedSums = 4;

    // Σz is summed in float over chunks of this many elements and flushed to double (≤ 512 terms per float lane).
    private const int SumChunk = 4096;

    // The saturated ranges as float bounds with the same meaning as the double thresholds: x > high ⇔ (double)x > T.
    private static readonly (float Low, float High) TanhBounds = FloatBounds(-LayerObservations.TanhSaturationThreshold, LayerObservations.TanhSaturationThreshold);
    private static readonly (float Low, float High) SigmoidBounds = FloatBounds(LayerObservations.SigmoidSaturationLow, LayerObservations.SigmoidSaturationHigh);

    private double[] _sums = new double[FixedSums];
    private int[] _unitCounts = [];
    private long _elements;
    private long _rows;
    private bool _any;

    /// <summary>Whether units' activity is counted (ReLU family); otherwise <see cref="ActivationStatistics.UnitActiveFraction"/> is empty.</summary>
    public bool MeasuresActivity => measureActivity;

    /// <summary>Adds the elements of one output, laid out as [outer, units, inner] (inner = 1 when the units are the
    /// last dimension; the spatial size when they are channels).</summary>
    /// <param name="values">The output's elements, dense.</param>
    /// <param name="units">The number of units; with <paramref name="inner"/> it must divide the length.</param>
    /// <param name="inner">The contiguous elements of one unit within one sample.</param>
    public void Add(ReadOnlySpan<float> values, int units, int inner)
    {
        if (units <= 0 || inner <= 0 || values.Length % ((long)units * inner) != 0)
        {
            throw new ArgumentException($"{units} units of {inner} elements do not divide {values.Length} elements.", nameof(units));
        }

        Span<double> sums = Prepare(units);
        TensorStatistics statistics = TensorStatistics.Compute(values);
        sums[0] += Sum(values);
        sums[1] += statistics.SquaredL2Norm;
        sums[2] += statistics.ZeroCount;
        sums[3] += following switch
        {
            ActivationKind.Tanh => CountOutside(values, TanhBounds.Low, TanhBounds.High),
            ActivationKind.Sigmoid => CountOutside(values, SigmoidBounds.Low, SigmoidBounds.High),
            _ => 0,
        };

        long rows = values.Length / units;
        if (measureActivity)
        {
            CountActive(values, units, inner, sums[FixedSums..], rows);
        }

        _elements += values.Length;
        _rows += rows;
    }

    /// <summary>Adds sums reduced elsewhere (on a device), in this type's layout: the <see cref="FixedSums"/> sums, then
    /// one active count per unit when activity is measured.</summary>
    /// <param name="sums">Σz, Σz², zeros, saturated and, when activity is measured, the active count per unit.</param>
    /// <param name="elements">The number of elements the sums cover.</param>
    /// <param name="rows">The number of samples per unit they cover (elements / units).</param>
    public void AddSums(ReadOnlySpan<double> sums, long elements, long rows)
    {
        Span<double> total = Prepare(measureActivity ? sums.Length - FixedSums : 0);
        TensorPrimitives.Add(total, sums, total);
        _elements += elements;
        _rows += rows;
    }

    /// <summary>The step's statistics; null when nothing was added since the last <see cref="Reset"/>.</summary>
    public ActivationStatistics? ToStatistics()
    {
        if (!_any)
        {
            return null;
        }

        double n = Math.Max(1, _elements);
        double mean = _sums[0] / n;
        float[] active = [];
        if (measureActivity)
        {
            active = new float[_sums.Length - FixedSums];
            for (int u = 0; u < active.Length; u++)
            {
                active[u] = (float)(_sums[FixedSums + u] / Math.Max(1, _rows));
            }
        }

        return new ActivationStatistics
        {
            ElementCount = _elements,
            Mean = mean,
            Variance = Math.Max(0, (_sums[1] / n) - (mean * mean)),
            ZeroFraction = _sums[2] / n,
            SaturatedFraction = following is ActivationKind.Sigmoid or ActivationKind.Tanh ? _sums[3] / n : null,
            UnitActiveFraction = active,
        };
    }

    /// <summary>Forgets everything added.</summary>
    public void Reset()
    {
        Array.Clear(_sums);
        _elements = _rows = 0;
        _any = false;
    }

    /// <summary>The sums to add to; a unit count different from earlier calls in this step (an unusual module) keeps only
    /// the latest call.</summary>
    private Span<double> Prepare(int units)
    {
        int length = FixedSums + (measureActivity ? units : 0);
        if (_sums.Length != length)
        {
            _sums = new double[length];
            _elements = _rows = 0;
        }
        else if (!_any)
        {
            Array.Clear(_sums);
        }

        _any = true;
        return _sums;
    }

    private static double Sum(ReadOnlySpan<float> values)
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
    private void CountActive(ReadOnlySpan<float> values, int units, int inner, Span<double> active, long rows)
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
        if (_unitCounts.Length < units)
        {
            _unitCounts = new int[units];
        }

        Span<int> counts = _unitCounts.AsSpan(0, units);
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
    private static long CountAbove(ReadOnlySpan<float> values, float threshold) =>
        CountOutside(values, float.NegativeInfinity, threshold);

    /// <summary>The number of elements below <paramref name="low"/> or above <paramref name="high"/> (NaN is neither).</summary>
    private static long CountOutside(ReadOnlySpan<float> values, float low, float high)
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
    private static (float Low, float High) FloatBounds(double low, double high)
    {
        float l = (float)low, h = (float)high;
        return (l < low ? MathF.BitIncrement(l) : l, h > high ? MathF.BitDecrement(h) : h);
    }
}
