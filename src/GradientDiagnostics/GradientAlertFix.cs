namespace GradientDiagnostics;

/// <summary>One concrete fix an alert suggests: a stable identifier to match on, and the text the alert's message shows.
/// The identifiers are the constants of this type; the text may be reworded between versions, the identifiers are not.
/// An alert's fixes follow its causes, one fix per cause (<see cref="GradientAlert.Fixes"/>).</summary>
/// <param name="Id">The fix's identifier, one of the constants of <see cref="GradientAlertFix"/>.</param>
/// <param name="Text">The fix as the message words it.</param>
public sealed record GradientAlertFix(string Id, string Text)
{
    /// <summary>Call the library's <c>model.InitializeForGradientFlow(...)</c> (docs/remedies.md).</summary>
    public const string InitializeForGradientFlow = "initialize-for-gradient-flow";

    /// <summary>Re-initialize with the scheme the activation calls for (Xavier for tanh / sigmoid, He for ReLU).</summary>
    public const string StandardInit = "standard-init";

    /// <summary>Switch to a non-saturating activation (ReLU, LeakyReLU, GELU).</summary>
    public const string SwitchActivation = "switch-activation";

    /// <summary>Add residual connections and normalization layers.</summary>
    public const string ResidualAndNormalization = "residual-and-normalization";

    /// <summary>Normalize the inputs, and add normalization before the activation.</summary>
    public const string NormalizeInputs = "normalize-inputs";

    /// <summary>Add normalization layers (BatchNorm / LayerNorm).</summary>
    public const string AddNormalization = "add-normalization";

    /// <summary>Lower the learning rate, or warm it up.</summary>
    public const string LowerLearningRate = "lower-learning-rate";

    /// <summary>Raise the learning rate, or check its schedule.</summary>
    public const string RaiseLearningRate = "raise-learning-rate";

    /// <summary>Clip gradients by global norm (<c>GradientClipping.ByGlobalNorm</c>).</summary>
    public const string ClipByGlobalNorm = "clip-by-global-norm";

    /// <summary>Keep the configured clipping, and fix the scale that makes the norms large.</summary>
    public const string FixScale = "fix-scale";

    /// <summary>Clip adaptively (<c>GradientClipping.ZScore()</c> or <c>AutoClip()</c>).</summary>
    public const string AdaptiveClipping = "adaptive-clipping";

    /// <summary>Call <c>monitor.EnableRecovery(optimizer)</c> to refuse spiking steps and roll back.</summary>
    public const string EnableRecovery = "enable-recovery";

    /// <summary>Raise the clipping threshold, or clip adaptively.</summary>
    public const string RaiseClippingThreshold = "raise-clipping-threshold";

    /// <summary>Guard the forward operation that produced the NaN / ±Infinity (clamp its input, add an epsilon).</summary>
    public const string GuardOperation = "guard-operation";

    /// <summary>Check the loss for log(0) and division by zero.</summary>
    public const string CheckLoss = "check-loss";

    /// <summary>Check the input data.</summary>
    public const string CheckData = "check-data";

    /// <summary>Keep fp32 master weights and optimizer state (<c>monitor.EnableMixedPrecision()</c>).</summary>
    public const string MasterWeights = "master-weights";

    /// <summary>Scale the loss up before backward (<c>monitor.EnableMixedPrecision()</c>, or a larger static scale).</summary>
    public const string LossScaling = "loss-scaling";

    /// <summary>Reload the last good checkpoint and keep skipping non-finite steps.</summary>
    public const string ReloadCheckpoint = "reload-checkpoint";

    /// <summary>Exclude frozen parameters from the optimizer and the monitor.</summary>
    public const string ExcludeFrozen = "exclude-frozen";

    /// <inheritdoc />
    public override string ToString() => Text;
}
