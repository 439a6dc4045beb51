namespace GradientDiagnostics;

/// <summary>What an alert is about.</summary>
public enum GradientAlertKind
{
    /// <summary>Gradients are too small to train a layer: absolutely, or relative to the layers between it and the loss.</summary>
    Vanishing = 0,

    /// <summary>Gradients are too large: the global norm crossed a hard threshold, or a layer's gradient grew far above the layers between it and the loss.</summary>
    Exploding = 1,

    /// <summary>A gradient, the loss or a weight holds NaN or ±Infinity.</summary>
    NonFinite = 2,

    /// <summary>The clipping policy changed the gradients on almost every recent step: its threshold is below the model's
    /// typical gradient norm (see <see cref="PersistentClippingOptions"/>).</summary>
    PersistentClipping = 7,
}
