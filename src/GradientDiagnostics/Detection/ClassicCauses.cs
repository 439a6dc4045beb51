namespace GradientDiagnostics;

/// <summary>The textbook causes of a pathology, given when the evidence the monitor holds names none
/// (<see cref="Diagnosis.OrClassic"/>).</summary>
internal static class ClassicCauses
{
    /// <summary>The classic causes of a vanishing signal.</summary>
    public static void Vanishing(Diagnosis d) => d
        .Add(GradientAlertCause.SaturatingActivation, "saturating activations (sigmoid/tanh)", GradientAlertFix.SwitchActivation,
            "use ReLU or GELU activations")
        .Add(GradientAlertCause.InitScale, "too small an init scale", GradientAlertFix.InitializeForGradientFlow,
            $"{LibraryRemedies.InitializeForGradientFlow}; or use Xavier init for tanh/sigmoid layers and He init for ReLU layers")
        .Add(GradientAlertCause.Depth, "depth without normalization or residual paths",
            GradientAlertFix.ResidualAndNormalization, "add residual connections and BatchNorm / LayerNorm");

    /// <summary>The cause named instead of "no gradient clipping" when a clipping policy is configured: the exploding
    /// norms are measured before it.</summary>
    public const string ClippingOnCause = "the norms are measured before clipping: the configured policy bounds the applied step, but not the cause of norms " +
        "this large";

    /// <summary>The fix that goes with <see cref="ClippingOnCause"/>.</summary>
    public const string ClippingOnFix = "keep the clipping policy, and fix the scale: lower the learning rate or the init scale";

    /// <summary>The classic causes of an exploding signal; "no gradient clipping" only when no policy is configured.</summary>
    public static void Exploding(Diagnosis d, bool clippingConfigured)
    {
        d.Add(GradientAlertCause.LearningRateTooHigh, "too large a learning rate", GradientAlertFix.LowerLearningRate,
            "lower the learning rate (or warm it up)");
        if (!clippingConfigured)
        {
            d.Add(GradientAlertCause.NoClipping, "no gradient clipping", GradientAlertFix.ClipByGlobalNorm, LibraryRemedies.ClipByGlobalNorm);
        }

        d.Add(GradientAlertCause.InitScale, "too large an init scale or a per-layer gain above 1",
            GradientAlertFix.InitializeForGradientFlow, $"{LibraryRemedies.InitializeForGradientFlow}, and add normalization layers");
    }
}
