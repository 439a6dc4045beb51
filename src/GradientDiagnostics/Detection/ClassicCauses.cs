namespace GradientDiagnostics;

/// <summary>The textbook causes of a pathology, given when the evidence the monitor holds names none
/// (<see cref="Diagnosis.OrClassic"/>).</summary>
internal static class ClassicCauses
{
    /// <summary>The classic causes of a vanishing signal.</summary>
    public static void Vanishing(Diagnosis d) => d
        .Add("saturating activations (sigmoid/tanh)", "use ReLU or GELU activations")
        .Add("too small an init scale", $"{LibraryRemedies.InitializeForGradientFlow}; or use Xavier init for tanh/sigmoid layers and He init for ReLU layers")
        .Add("depth without normalization or residual paths", "add residual connections and BatchNorm / LayerNorm");

    /// <summary>The classic causes of an exploding signal.</summary>
    public static void Exploding(Diagnosis d) => d
        .Add("too large a learning rate", "lower the learning rate (or warm it up)")
        .Add("no gradient clipping", LibraryRemedies.ClipByGlobalNorm)
        .Add("too large an init scale or a per-layer gain above 1", $"{LibraryRemedies.InitializeForGradientFlow}, and add normalization layers");
}
