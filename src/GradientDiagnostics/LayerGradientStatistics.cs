namespace GradientDiagnostics;

/// <summary>One layer's record at one step: its gradient statistics over all its trainable parameters taken together,
/// and whatever else was measured for it (output gradient, activations, weights, update, the gradient after clipping).
/// The detectors, the report, the metrics, JSON Lines and TensorBoard all read this one record.</summary>
public sealed class LayerGradientStatistics
{
    internal LayerGradientStatistics()
    {
    }

    /// <summary>The layer's position in forward order: 0 is the layer closest to the input.</summary>
    public int Index { get; internal init; }

    /// <summary>The layer's module path, for example <c>encoder.layers.3</c>.</summary>
    public string Name { get; internal init; } = string.Empty;

    /// <summary>The element statistics of the layer's parameter gradients (∂L/∂θ), before any clipping.</summary>
    public TensorStatistics Gradient { get; internal init; }

    /// <summary>The L2 norm of the layer's parameter gradients before any clipping; NaN or +Infinity when they hold such values.</summary>
    public double GradientNorm => Gradient.L2Norm;

    /// <summary>‖∂L/∂y‖₂, the norm of the loss gradient with respect to the layer's output (the back-propagated
    /// signal at this depth); null when the layer was not probed at this step.</summary>
    public double? OutputGradientNorm { get; internal init; }

    /// <summary>The L2 norm of the layer's parameter gradients after the clipping policy ran (what the optimizer
    /// applies); null when no policy ran at this step (none is set, or the step is non-finite and its gradients were left
    /// untouched).</summary>
    public double? GradientNormAfterClipping { get; internal set; }

    /// <summary>The element statistics of the layer's weights (its trainable parameters); null when not measured at this
    /// step (measured on <see cref="GradientStepKind.Full"/> steps, and by the TorchSharp adapter also on every step whose
    /// loss or gradients are non-finite, to tell non-finite weights apart).</summary>
    public TensorStatistics? Parameters { get; internal init; }

    /// <summary>‖θ_t − θ_{t−1}‖₂, the L2 norm of the change the last optimizer step made to the layer's parameters; null
    /// when not measured (see <see cref="GradientMonitorOptions.CaptureParameterUpdates"/>).</summary>
    public double? ParameterUpdateNorm { get; internal init; }

    /// <summary>Statistics of the layer's output (the activation's input); null when the layer was not probed at this step.</summary>
    public ActivationStatistics? Activations { get; internal init; }

    /// <summary>The format the layer's parameters and their gradients are stored in, as the adapter told;
    /// <see cref="NumericFormat.Unknown"/> when not told.</summary>
    public NumericFormat ParameterFormat { get; internal init; }

    /// <summary>The fraction of the layer's 16-bit gradient elements that are ±0 or subnormal as stored (below 2⁻¹⁴ in
    /// float16, 2⁻¹²⁶ in bfloat16, before any unscaling): elements that carry no, or reduced, precision. In [0, 1]; null
    /// when the layer's gradients are not 16-bit. Measured every step, in the same read as <see cref="Gradient"/>.</summary>
    public double? UnderflowFraction { get; internal init; }

    /// <summary>log₂(the 16-bit format's largest finite value / max |g| as stored), in bits: how many doublings of the loss
    /// scale the layer's largest gradient element can take before it overflows. 0 when it already holds NaN or ±Infinity;
    /// +Infinity when every element is 0; null when the layer's gradients are not 16-bit. Measured every step.</summary>
    public double? OverflowHeadroomBits { get; internal init; }

    /// <summary>The fraction of the layer's 16-bit weight elements that the last optimizer step left bit-identical (the
    /// update was smaller than half an ulp of the weight, or zero), in [0, 1]; null when not measured: measured on
    /// <see cref="GradientStepKind.Full"/> steps when the update is captured
    /// (<see cref="GradientMonitorOptions.CaptureParameterUpdates"/>), for 16-bit weights only, and not under fp32 master
    /// weights (their 16-bit weights are a rounded copy of masters that keep every update).</summary>
    public double? LostUpdateFraction { get; internal init; }

    /// <summary>The mean |g| over the layer's gradient elements.</summary>
    public double MeanMagnitude => Gradient.MeanMagnitude;

    /// <summary>The largest |g| over the layer's gradient elements (L∞ norm).</summary>
    public double MaxMagnitude => Gradient.MaxMagnitude;
}
