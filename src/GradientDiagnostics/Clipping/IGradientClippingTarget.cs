namespace GradientDiagnostics;

/// <summary>
/// Where a clipping decision is applied: the gradients of the monitored layers, in forward order. The core decides
/// (coefficients, clamp values, unit-wise parameters) and calls these members; an adapter applies them in place where
/// the gradients live, without element-wise host loops on a device.
/// </summary>
internal interface IGradientClippingTarget
{
    /// <summary>Multiplies every gradient of layer <c>i</c> by <paramref name="layerCoefficients"/>[i]; a coefficient of
    /// exactly 1 leaves the layer alone (no multiply).</summary>
    void Scale(ReadOnlySpan<double> layerCoefficients);

    /// <summary>Clamps every gradient element of every layer to [−<paramref name="value"/>, <paramref name="value"/>].</summary>
    void Clamp(double value);

    /// <summary>Adaptive gradient clipping (Brock et al. 2021), unit-wise, on every layer not excluded: see
    /// <see cref="AdaptiveGradientClipping"/> for the units and the rule.</summary>
    void ClipUnitWise(double clipping, double epsilon, ReadOnlySpan<bool> excludedLayers);

    /// <summary>Measures the current element statistics of each layer's gradients (after the changes applied so far).</summary>
    TensorStatistics[] Measure();

    /// <summary>Σ|g|^p over each layer's gradient elements, for a norm type p other than 1, 2 and ∞.</summary>
    double[] PowerSums(double p);
}
