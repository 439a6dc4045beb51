namespace GradientDiagnostics;

/// <summary>What an initialization remedy did to one layer's weights.</summary>
public sealed class LayerWeightScale
{
    internal LayerWeightScale()
    {
    }

    /// <summary>The layer's module path.</summary>
    public string Name { get; internal init; } = string.Empty;

    /// <summary>The factor the layer's weight tensors (its trainable parameters of rank ≥ 2) were multiplied by, in total;
    /// 1 when they were left alone. Biases are never changed.</summary>
    public double Factor { get; internal init; } = 1;

    /// <summary>Whether the layer's weights were eligible for rescaling (a Linear or convolution layer with a trainable
    /// weight that does not feed a normalization layer).</summary>
    public bool Rescalable { get; internal init; }

    /// <summary>Why the layer got its factor: the steps applied, or why it was left alone.</summary>
    public string Reason { get; internal init; } = string.Empty;
}
