namespace GradientDiagnostics;

/// <summary>
/// What a gradient-flow check concluded from the depth gain: the fitted per-layer gain g of ‖∂L/∂y‖ raised to the number
/// of probed layer-to-layer steps (g^depth, the factor by which the back-propagated signal changes from the last probed
/// layer to the first), compared with the thresholds of the vanishing and exploding detectors
/// (<see cref="VanishingOptions.RelativeNormThreshold"/>, <see cref="ExplodingOptions.RelativeNormThreshold"/>),
/// as the monitor's depth criteria judge it at every full-statistics step.
/// </summary>
public enum GradientFlowVerdict
{
    /// <summary>The depth gain could not be measured: fewer than two layers' output gradients were probed.</summary>
    Unknown = 0,

    /// <summary>g^depth is between the two thresholds: the signal neither vanishes nor explodes across the network.</summary>
    Healthy = 1,

    /// <summary>g^depth is below the vanishing detector's ratio threshold (1e-4 by default).</summary>
    Vanishing = 2,

    /// <summary>g^depth is above the exploding detector's ratio threshold (1e4 by default).</summary>
    Exploding = 3,
}
