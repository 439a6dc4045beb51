namespace GradientDiagnostics;

/// <summary>What an alert is about.</summary>
public enum GradientAlertKind
{
    /// <summary>Gradients are too small to train a layer: absolutely, relative to the layers between it and the loss,
    /// or decaying geometrically with depth.</summary>
    Vanishing = 0,

    /// <summary>Gradients are too large: the global norm crossed a hard threshold or spiked against its history, or the
    /// back-propagated signal grows with depth.</summary>
    Exploding = 1,

    /// <summary>A gradient, the loss or a weight holds NaN or ±Infinity.</summary>
    NonFinite = 2,

    /// <summary>Most of a tanh/sigmoid layer's outputs sit in the flat tails of the activation, where its derivative is ~0.</summary>
    Saturation = 3,

    /// <summary>Most of a ReLU-family layer's units were never active over a window of steps, so they get no gradient.</summary>
    DeadUnits = 4,

    /// <summary>In the first steps, activation variances differ widely across layers, or a layer's weight scale is far
    /// from the Xavier / He expectation for its fan-in, fan-out and activation.</summary>
    PoorInitialization = 5,

    /// <summary>The relative size of a layer's weight update, ‖Δw‖/‖w‖, is outside the healthy band.</summary>
    UpdateRatio = 6,

    /// <summary>The clipping policy changed the gradients on almost every recent step: its threshold is below the model's
    /// typical gradient norm (see <see cref="PersistentClippingOptions"/>).</summary>
    PersistentClipping = 7,

    /// <summary>Recovery acted (see <c>GradientMonitor.EnableRecovery</c>): it refused a spiking step before the optimizer
    /// applied it, rolled back to a snapshot (<see cref="GradientStepResult.RolledBackToStep"/>), or, Critical, gave up.</summary>
    Recovery = 8,

    /// <summary>A 16-bit layer is losing its signal to its number format: most of its gradient elements are zero or
    /// subnormal as stored (float16 underflow), or most of its weights were left bit-identical by the optimizer step
    /// (updates below half an ulp, lost in rounding); see <see cref="PrecisionOptions"/>.</summary>
    Precision = 9,

    /// <summary>A recurrent layer's back-propagated signal fades through time: its memory horizon
    /// (<see cref="RecurrentTimeProfile.MemoryHorizon"/>) is short against its sequence, so longer dependencies cannot be
    /// learned; see <see cref="VanishingThroughTimeOptions"/>.</summary>
    VanishingThroughTime = 10,

    /// <summary>A recurrent layer's back-propagated signal grows step after step back through its sequence (per-step gain
    /// above 1); see <see cref="ExplodingThroughTimeOptions"/>.</summary>
    ExplodingThroughTime = 11,
}
