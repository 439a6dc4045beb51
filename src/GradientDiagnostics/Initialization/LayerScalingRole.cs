namespace GradientDiagnostics.Adapters;

/// <summary>Whether an initialization remedy may rescale a layer's weights, and if not, why.</summary>
public enum LayerScalingRole
{
    /// <summary>A Linear or convolution layer with a trainable weight: its weight scale sets the backward gain.</summary>
    Rescalable = 0,

    /// <summary>A normalization layer (BatchNorm, LayerNorm, GroupNorm, …): its affine scale is learned; left alone.</summary>
    Normalization = 1,

    /// <summary>A layer whose output feeds a normalization layer, which divides its weight scale out again; left alone.</summary>
    FeedsNormalization = 2,

    /// <summary>Any other layer (embedding, recurrent, attention, a custom module) or one whose weight is frozen; left alone.</summary>
    NotAWeightLayer = 3,
}
