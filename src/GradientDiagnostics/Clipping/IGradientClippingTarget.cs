namespace GradientDiagnostics.Adapters;

/// <summary>
/// Where a clipping decision is applied: the gradients of the monitored layers, in forward order. The core decides
/// (coefficients, clamp values, unit-wise parameters) and calls these members; an adapter applies them in place where
/// the gradients live, without element-wise host loops on a device. A framework adapter implements it and passes it to
/// <see cref="GradientAnalyzer.Analyze"/>; <see cref="ArrayClippingTarget"/> is the CPU reference over plain arrays.
/// </summary>
/// <remarks>The analyzer calls these members only on steps whose gradients and loss are finite, at most once per step
/// for each change, and reads the statistics again (<see cref="Measure"/>) only after an element- or unit-wise change.</remarks>
public interface IGradientClippingTarget
{
    /// <summary>Multiplies every gradient of layer <c>i</c> by <paramref name="layerCoefficients"/>[i]; a coefficient of
    /// exactly 1 leaves the layer alone (no multiply).</summary>
    /// <param name="layerCoefficients">One coefficient in (0, 1] per layer, in forward order.</param>
    void Scale(ReadOnlySpan<double> layerCoefficients);

    /// <summary>Clamps every gradient element of every layer to [−<paramref name="value"/>, <paramref name="value"/>].</summary>
    /// <param name="value">The largest magnitude allowed, &gt; 0.</param>
    void Clamp(double value);

    /// <summary>Adaptive gradient clipping (Brock et al. 2021), unit-wise, on every layer not excluded: for each unit i
    /// of each parameter (an output row of a Linear weight, an output filter of a Conv weight, a whole 1-D tensor),
    /// max = <paramref name="clipping"/> · max(‖W_i‖₂, <paramref name="epsilon"/>), and when ‖G_i‖₂ &gt; max, G_i is scaled
    /// by max / max(‖G_i‖₂, <see cref="GradientClipping.AdaptiveGradientNormFloor"/>) (see <see cref="GradientClipping.Adaptive"/>).</summary>
    /// <param name="clipping">λ, the largest gradient-to-weight norm ratio per unit.</param>
    /// <param name="epsilon">The smallest weight norm used.</param>
    /// <param name="excludedLayers">Per layer, in forward order: true leaves the layer alone.</param>
    void ClipUnitWise(double clipping, double epsilon, ReadOnlySpan<bool> excludedLayers);

    /// <summary>Measures the current element statistics of each layer's gradients (after the changes applied so far).</summary>
    /// <returns>One <see cref="TensorStatistics"/> per layer, in forward order, over all its parameters' gradients.</returns>
    TensorStatistics[] Measure();

    /// <summary>Σ|g|^p over each layer's gradient elements, for a norm type p other than 1, 2 and ∞.</summary>
    /// <param name="p">The norm type, finite and &gt; 0.</param>
    /// <returns>One sum per layer, in forward order.</returns>
    double[] PowerSums(double p);
}
