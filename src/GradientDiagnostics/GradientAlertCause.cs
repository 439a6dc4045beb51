namespace GradientDiagnostics;

/// <summary>One likely cause of an alert: a stable identifier to match on, and the text the alert's message shows. The
/// identifiers are the constants of this type; the text may be reworded between versions, the identifiers are not.</summary>
/// <param name="Id">The cause's identifier, one of the constants of <see cref="GradientAlertCause"/>.</param>
/// <param name="Text">The cause as the message words it, with the evidence's numbers.</param>
public sealed record GradientAlertCause(string Id, string Text)
{
    /// <summary>The weights' scale is off the Xavier / He expectation (measured on the layer, or suspected).</summary>
    public const string InitScale = "init-scale";

    /// <summary>A tanh / sigmoid activation whose derivative is near 0 in its tails.</summary>
    public const string SaturatingActivation = "saturating-activation";

    /// <summary>Depth: the signal is multiplied by one factor per layer, without normalization or residual paths.</summary>
    public const string Depth = "depth";

    /// <summary>Pre-activations too large for a saturating activation.</summary>
    public const string LargePreActivations = "large-pre-activations";

    /// <summary>A learning rate too high for the model or the current loss landscape.</summary>
    public const string LearningRateTooHigh = "learning-rate-too-high";

    /// <summary>A learning rate too small, or decayed to about 0.</summary>
    public const string LearningRateTooLow = "learning-rate-too-low";

    /// <summary>No gradient clipping bounds the step.</summary>
    public const string NoClipping = "no-clipping";

    /// <summary>The norms are measured before the configured clipping policy, which bounds the step but not the cause.</summary>
    public const string NormsBeforeClipping = "norms-before-clipping";

    /// <summary>A clipping threshold below the model's typical gradient norm.</summary>
    public const string ClippingThresholdTooLow = "clipping-threshold-too-low";

    /// <summary>An outlier batch, or a learning rate too high for the current loss landscape, behind a single spike.</summary>
    public const string OutlierBatch = "outlier-batch";

    /// <summary>No adaptive clipping, so a single spike moves the weights far.</summary>
    public const string NoAdaptiveClipping = "no-adaptive-clipping";

    /// <summary>Nothing refuses a spiking step before the optimizer applies it.</summary>
    public const string NoStepGuard = "no-step-guard";

    /// <summary>An operation in the forward pass that overflows or is undefined for some inputs (the traced origin).</summary>
    public const string ForwardOperation = "forward-operation";

    /// <summary>An overflow in the loss (log(0), exp of a large value, division by about 0).</summary>
    public const string LossOverflow = "loss-overflow";

    /// <summary>NaN or ±Infinity in the input data.</summary>
    public const string BadInputData = "bad-input-data";

    /// <summary>An optimizer whose state or update is kept in a 16-bit format.</summary>
    public const string SixteenBitOptimizerState = "16-bit-optimizer-state";

    /// <summary>Weights already corrupted by an earlier non-finite or overflowing update.</summary>
    public const string CorruptWeights = "corrupt-weights";

    /// <summary>16-bit gradient elements that underflow to subnormals or 0.</summary>
    public const string Underflow = "underflow";

    /// <summary>16-bit weights that round away updates smaller than half their ulp.</summary>
    public const string LostUpdates = "lost-updates";

    /// <summary>Vanishing gradients reaching the layer.</summary>
    public const string VanishingUpstream = "vanishing-upstream";

    /// <summary>A layer meant to be frozen that still has <c>requires_grad</c>.</summary>
    public const string FrozenLayer = "frozen-layer";

    /// <summary>ReLU units that get no gradient once they are off for every input.</summary>
    public const string DeadReLU = "dead-relu";

    /// <summary>No normalization re-centres the forward signal.</summary>
    public const string NoNormalization = "no-normalization";

    /// <inheritdoc />
    public override string ToString() => Text;
}
