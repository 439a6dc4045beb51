namespace GradientDiagnostics;

/// <summary>Options of the vanishing-gradient detector.</summary>
/// <remarks>
/// The detector fires when a layer's gradients are absolutely tiny (<see cref="MeanMagnitudeThreshold"/>) or tiny
/// relative to the layers between it and the loss (<see cref="RelativeNormThreshold"/>), or when the probed output
/// gradients decay geometrically with depth (<see cref="DepthDecay"/>): back-propagation multiplies
/// the signal by one factor f'(z)·Wᵀ per layer, so a signal that shrinks towards the input is the vanishing pattern.
/// Defaults: persistence 3 of the last 5 steps (vanishing is chronic; one tiny step, say a batch whose loss is
/// nearly zero, is not worth an alert) and a cooldown of 100 steps.
/// </remarks>
public sealed class VanishingOptions : PersistentDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public VanishingOptions()
        : base(persistence: 3, persistenceWindow: 5, cooldownSteps: 100)
    {
    }

    /// <summary>A layer whose mean |g| over all its gradient elements is below this value vanishes.</summary>
    /// <value>The default value is 1e-7: the threshold of SageMaker Debugger's VanishingGradient rule.</value>
    public double MeanMagnitudeThreshold { get; set; } = 1e-7;

    /// <summary>A layer whose gradient L2 norm is below this fraction of the largest layer norm among the layers
    /// between it and the loss vanishes.</summary>
    /// <value>The default value is 1e-4: four orders of magnitude. Healthy 30-layer ReLU MLPs at init stay within 10×
    /// across layers, a sigmoid one falls below 1e-15 (measured: docs/detectors.md#relative-norm-threshold).</value>
    public double RelativeNormThreshold { get; set; } = 1e-4;

    /// <summary>Whether the depth-decay criterion runs: on steps where layers' output gradients ‖∂L/∂y‖ were probed,
    /// the fitted per-layer gain g (<see cref="DepthProfile.FitGain"/>) raised to the number of probed layer-to-layer
    /// steps is compared with <see cref="RelativeNormThreshold"/>; below it, the signal vanishes with depth.</summary>
    /// <value>The default value is <see langword="true"/>. On 30-layer MLPs at init, sigmoid + Xavier (g^29 ≈ 5e-19) and
    /// ReLU + Xavier (≈ 4e-5) fire, ReLU + He (≈ 1) stays quiet (measured: docs/detectors.md#depth-decay-and-depth-growth).</value>
    public bool DepthDecay { get; set; } = true;

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.Positive(MeanMagnitudeThreshold, $"{path}.{nameof(MeanMagnitudeThreshold)}");
        OptionGuard.InOpenRange(RelativeNormThreshold, 0, 1, $"{path}.{nameof(RelativeNormThreshold)}");
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.Vanishing, "Vanishing", AboutGradient: true);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new VanishingGradientDetector(this);
}
