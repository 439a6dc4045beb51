using System.Numerics.Tensors;

namespace GradientDiagnostics;

/// <summary>
/// What float16 would do to a model's gradients, measured on one float32 pass (the gradient-flow preflight): per layer,
/// the elements that would flush to 0 or turn subnormal, and the range of power-of-two loss scales that keeps every layer
/// out of underflow without overflow.
/// </summary>
/// <remarks>
/// The rule (docs/remedies.md, "Float16 loss-scale range"): a scale 2ᵏ keeps a layer out of underflow when at most
/// <see cref="UnderflowTolerance"/> of its nonzero gradient elements stay below float16's smallest normal 2⁻¹⁴ once
/// multiplied by 2ᵏ (an element in [2ᵉ, 2ᵉ⁺¹) is normal exactly when e + k ≥ −14, so the count is exact from the
/// elements' binary exponents); <see cref="MinLossScale"/> is the smallest such 2ᵏ over every layer. A scale keeps the
/// backward pass finite when 2ᵏ·M ≤ 65504, float16's largest value, where M is the largest of every layer's max |∂L/∂θ|
/// and every probed ‖∂L/∂y‖₂ (an upper bound of that output gradient's largest element); <see cref="MaxLossScale"/> is the
/// largest such 2ᵏ. Powers of two, because multiplying by one is exact. Activation gradients that are not probed are not
/// bounded: the range is a prediction, to confirm with a short run.
/// </remarks>
public sealed class Float16GradientCheck
{
    /// <summary>The largest fraction of a layer's nonzero gradient elements that may stay below float16's normal range at
    /// the recommended scales: 1%, this library's choice, the bound issue 21's acceptance run checks (a scale inside the
    /// range leaves under 1% of every layer's elements zero or subnormal).</summary>
    public const double UnderflowTolerance = 0.01;

    private const int ExponentOffset = 160; // float32 binary exponents run from −149 (subnormals) to 127

    internal Float16GradientCheck(IReadOnlyList<Float16LayerCheck> layers, double? minLossScale, double? maxLossScale)
    {
        Layers = layers;
        MinLossScale = minLossScale;
        MaxLossScale = maxLossScale;
    }

    /// <summary>Per layer, in forward order, what float16 would do to its gradients at loss scale 1.</summary>
    public IReadOnlyList<Float16LayerCheck> Layers { get; }

    /// <summary>The smallest power-of-two loss scale that leaves at most <see cref="UnderflowTolerance"/> of every layer's
    /// nonzero gradient elements below float16's normal range; null when no scale in the range does (see
    /// <see cref="MaxLossScale"/>) or no layer has a nonzero gradient.</summary>
    public double? MinLossScale { get; }

    /// <summary>The largest power-of-two loss scale under which no measured gradient passes 65504; null when it would be
    /// below <see cref="MinLossScale"/> (no scale keeps every layer out of underflow without overflow), or nothing was
    /// measured.</summary>
    public double? MaxLossScale { get; }

    /// <summary>Measures float32 gradients as float16 would store them and derives the loss-scale range.</summary>
    /// <param name="names">The layers' names, in forward order.</param>
    /// <param name="gradients">Each layer's gradient elements (all its parameters, in any order), as float32.</param>
    /// <param name="outputGradientBound">An upper bound of the back-propagated values the gradients do not show, such as
    /// the largest probed ‖∂L/∂y‖₂; 0 when none.</param>
    /// <exception cref="ArgumentException">The two lists differ in length.</exception>
    internal static Float16GradientCheck Measure(IReadOnlyList<string> names, IReadOnlyList<ReadOnlyMemory<float>> gradients, double outputGradientBound)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(gradients);
        if (names.Count != gradients.Count)
        {
            throw new ArgumentException($"{names.Count} names but {gradients.Count} gradients.", nameof(gradients));
        }

        var layers = new Float16LayerCheck[names.Count];
        int? neededExponent = null;
        double largest = double.IsFinite(outputGradientBound) ? outputGradientBound : 0;
        Span<long> exponents = stackalloc long[ExponentOffset + 128];
        for (int i = 0; i < layers.Length; i++)
        {
            ReadOnlySpan<float> values = gradients[i].Span;
            exponents.Clear();
            long flushed = 0, subnormal = 0, nonzero = 0;
            foreach (float x in values)
            {
                if (x == 0 || !float.IsFinite(x))
                {
                    continue;
                }

                nonzero++;
                exponents[float.ILogB(x) + ExponentOffset]++;
                float stored = Math.Abs((float)(Half)x);
                flushed += stored == 0 ? 1 : 0;
                subnormal += stored > 0 && stored < SixteenBitFormats.Float16MinNormal ? 1 : 0;
            }

            largest = Math.Max(largest, values.IsEmpty ? 0 : TensorPrimitives.MaxMagnitudeNumber(values) is float m && float.IsFinite(m) ? Math.Abs(m) : 0);
            int n = Math.Max(values.Length, 1);
            layers[i] = new Float16LayerCheck(names[i], (double)flushed / n, (double)subnormal / n);
            if (nonzero > 0)
            {
                int k = SmallestNormalizingExponent(exponents, nonzero);
                neededExponent = neededExponent is int e ? Math.Max(e, k) : k;
            }
        }

        int? maxExponent = largest > 0 ? (int)Math.Floor(Math.Log2(SixteenBitFormats.Float16Max / largest)) : null;
        if (maxExponent is int hi && Math.Pow(2, hi) * largest > SixteenBitFormats.Float16Max)
        {
            maxExponent = hi - 1; // Log2 rounded up at an exact power of two
        }

        bool exists = neededExponent is int lo && maxExponent is int top && lo <= top;
        return new Float16GradientCheck(layers,
            exists ? Math.Pow(2, neededExponent!.Value) : null,
            exists ? Math.Pow(2, maxExponent!.Value) : null);
    }

    /// <summary>The smallest k such that at most <see cref="UnderflowTolerance"/> of the elements have a binary exponent
    /// e with e + k &lt; −14.</summary>
    private static int SmallestNormalizingExponent(ReadOnlySpan<long> exponents, long nonzero)
    {
        long allowed = (long)Math.Floor(UnderflowTolerance * nonzero);
        long below = 0;
        for (int bin = 0; bin < exponents.Length; bin++)
        {
            // Elements with exponent ≤ bin − offset stay below 2⁻¹⁴ exactly when k < −14 − e; once more than the allowed
            // count sits at or below this exponent, k must lift this exponent into the normal range.
            below += exponents[bin];
            if (below > allowed)
            {
                return -14 - (bin - ExponentOffset);
            }
        }

        return -14 - (exponents.Length - 1 - ExponentOffset);
    }
}
