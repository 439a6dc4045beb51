namespace GradientDiagnostics;

/// <summary>One layer's gradient statistics at one step, over all its trainable parameters taken together.</summary>
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

    /// <summary>The mean |g| over the layer's gradient elements.</summary>
    public double MeanMagnitude => Gradient.MeanMagnitude;

    /// <summary>The largest |g| over the layer's gradient elements (L∞ norm).</summary>
    public double MaxMagnitude => Gradient.MaxMagnitude;
}
