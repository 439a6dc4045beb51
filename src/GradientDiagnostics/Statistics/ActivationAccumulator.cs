using System.Numerics.Tensors;

namespace GradientDiagnostics.Adapters;

/// <summary>
/// Accumulates one layer's output statistics over the forward calls of one step (gradient accumulation, weight sharing
/// and time steps add up) and turns them into <see cref="ActivationStatistics"/>. Fed either with managed spans read in
/// place (a few vectorized passes: <see cref="TensorStatistics.Compute(ReadOnlySpan{float})"/> for Σz², zeros and
/// finiteness, then Σz, the saturated count and the per-unit activity), or with the same sums reduced on a device
/// (<see cref="Add(in ActivationSums, ReadOnlySpan{double})"/>).
/// </summary>
/// <remarks>An adapter keeps one per probed layer, adds every output its forward hook sees, and puts
/// <see cref="ToStatistics"/> into <see cref="LayerObservation.Activations"/> on a full step, then calls
/// <see cref="Reset"/>. The saturation thresholds are the core's (<see cref="LayerObservations"/>), so every adapter
/// counts saturation the same way.</remarks>
/// <param name="following">The activation after the layer: tanh and sigmoid outputs count saturation.</param>
/// <param name="measureActivity">Whether to count, per unit, the samples on which it is active (ReLU family, for the
/// dead-unit detector).</param>
public sealed class ActivationAccumulator(ActivationKind following, bool measureActivity)
{
    // The running totals: Σz, Σz², zeros, saturated, then one active count per unit when activity is measured.
    private const int FixedSums = 4;

    // The saturated ranges as float bounds with the same meaning as the double thresholds: x > high ⇔ (double)x > T.
    private static readonly (float Low, float High) TanhBounds = ActivationCounting.FloatBounds(-LayerObservations.TanhSaturationThreshold,
        LayerObservations.TanhSaturationThreshold);
    private static readonly (float Low, float High) SigmoidBounds = ActivationCounting.FloatBounds(LayerObservations.SigmoidSaturationLow,
        LayerObservations.SigmoidSaturationHigh);

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
    /// <exception cref="ArgumentException">The units and inner size do not divide the length.</exception>
    public void Add(ReadOnlySpan<float> values, int units, int inner)
    {
        if (units <= 0 || inner <= 0 || values.Length % ((long)units * inner) != 0)
        {
            throw new ArgumentException($"{units} units of {inner} elements do not divide {values.Length} elements.", nameof(units));
        }

        Span<double> sums = Prepare(units);
        TensorStatistics statistics = TensorStatistics.Compute(values);
        sums[0] += ActivationCounting.Sum(values);
        sums[1] += statistics.IsFinite ? statistics.SumOfSquares : statistics.L2Norm; // NaN or +Infinity propagate
        sums[2] += statistics.ZeroCount;
        sums[3] += following switch
        {
            ActivationKind.Tanh => ActivationCounting.CountOutside(values, TanhBounds.Low, TanhBounds.High),
            ActivationKind.Sigmoid => ActivationCounting.CountOutside(values, SigmoidBounds.Low, SigmoidBounds.High),
            _ => 0,
        };

        long rows = values.Length / units;
        if (measureActivity)
        {
            ActivationCounting.CountActive(values, units, inner, sums[FixedSums..], rows, following, ref _unitCounts);
        }

        _elements += values.Length;
        _rows += rows;
    }

    /// <summary>Adds sums reduced elsewhere (on a device) for one or more outputs.</summary>
    /// <param name="sums">Σz, Σz², zeros and saturated, and the elements and samples per unit they cover.</param>
    /// <param name="unitActiveCounts">Per unit, the number of samples on which it is active, when activity is measured
    /// (<see cref="MeasuresActivity"/>); ignored otherwise.</param>
    public void Add(in ActivationSums sums, ReadOnlySpan<double> unitActiveCounts = default)
    {
        Span<double> total = Prepare(measureActivity ? unitActiveCounts.Length : 0);
        total[0] += sums.Sum;
        total[1] += sums.SumOfSquares;
        total[2] += sums.Zeros;
        total[3] += sums.Saturated;
        Span<double> units = total[FixedSums..]; // empty unless activity is measured
        TensorPrimitives.Add(units, unitActiveCounts[..units.Length], units);

        _elements += sums.Elements;
        _rows += sums.Rows;
    }

    /// <summary>The step's statistics; null when nothing was added since the last <see cref="Reset"/>.</summary>
    /// <returns>The mean, variance, zero and saturated fractions over every element added, and the per-unit active
    /// fractions when activity is measured.</returns>
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
}
