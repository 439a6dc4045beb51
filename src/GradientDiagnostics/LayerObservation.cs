namespace GradientDiagnostics.Adapters;

/// <summary>
/// What an adapter measured for one layer at one step, in the framework-free form the analyzer consumes.
/// An adapter (for example GradientDiagnostics.TorchSharp) fills one per layer, in forward order. Only
/// <see cref="Gradient"/> is required; the optional parts feed the detectors that need them and are null when not measured.
/// </summary>
/// <param name="Gradient">The element statistics of the layer's trainable parameter gradients taken together (∂L/∂θ).</param>
public readonly record struct LayerObservation(TensorStatistics Gradient)
{
    /// <summary>The element statistics of the layer's trainable parameters themselves (θ) at this step, before the
    /// optimizer step; null when not measured.</summary>
    public TensorStatistics? Parameters { get; init; }

    /// <summary>The L2 norm of the parameter change since the previous observation, ‖θ_t − θ_{t−1}‖; null when not measured.</summary>
    public double? ParameterUpdateNorm { get; init; }

    /// <summary>‖∂L/∂y‖₂, the L2 norm of the loss gradient with respect to the layer's output y, summed over the batch
    /// (the back-propagated signal at this depth); null when the layer is not probed.</summary>
    public double? OutputGradientNorm { get; init; }

    /// <summary>A summary of the layer's forward output at this step; null when not measured.</summary>
    public ActivationStatistics? Activations { get; init; }

    /// <summary>The format the layer's parameters (and so their gradients) are stored in; <see cref="NumericFormat.Unknown"/>
    /// when not told.</summary>
    /// <value>The default value is <see cref="NumericFormat.Unknown"/>.</value>
    public NumericFormat ParameterFormat { get; init; }

    /// <summary>The statistics of the layer's 16-bit gradient elements as stored (zero-or-subnormal count, max |g|), read in
    /// the same pass as <see cref="Gradient"/>, which includes them; null when the layer has no 16-bit gradient.</summary>
    public SixteenBitStatistics? SixteenBitGradient { get; init; }

    /// <summary>The fraction of the layer's 16-bit weight elements that the last optimizer step left bit-identical, in
    /// [0, 1]; null when not measured (the layer has no 16-bit weights, or the update was not captured).</summary>
    public double? LostUpdateFraction { get; init; }
}
