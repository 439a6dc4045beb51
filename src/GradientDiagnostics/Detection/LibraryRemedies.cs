namespace GradientDiagnostics;

/// <summary>The library's own remedies as alert fixes name them, so every detector points at the same call.</summary>
internal static class LibraryRemedies
{
    /// <summary>For a poor init scale (docs/remedies.md).</summary>
    public const string InitializeForGradientFlow = "call model.InitializeForGradientFlow(...) before step 1, which rescales each layer's weights to a " +
        "backward gain of 1";

    /// <summary>For an exploding global norm (docs/clipping.md).</summary>
    public const string ClipByGlobalNorm = "clip gradients by global norm: GradientMonitorOptions.Clipping = GradientClipping.ByGlobalNorm(1.0)";

    /// <summary>For single spikes: clipping that follows the norm's own history (docs/clipping.md).</summary>
    public const string AdaptiveClipping = "clip adaptively so a single spike cannot move the weights far: GradientClipping.ZScore() (ZClip-style) or " +
        "GradientClipping.AutoClip()";

    /// <summary>For spikes that get through: refuse the step before the optimizer applies it (docs/reliability.md).</summary>
    public const string EnableRecovery = "call monitor.EnableRecovery(optimizer), which refuses a spiking step before the optimizer applies it and rolls " +
        "back after repeated ones";

    /// <summary>For a recurrent layer whose gain per time step is far from 1 (docs/recurrent.md).</summary>
    public const string InitializeRecurrentForGradientFlow =
        "call model.InitializeForGradientFlow(...) before step 1, which makes the recurrent weights orthogonal with a per-step gain of about 1 and, "
        + "for LSTM and GRU, sets the forget (update) gate's effective bias b_ih + b_hh for a horizon of at least the sequence length";
}
