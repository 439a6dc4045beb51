namespace GradientDiagnostics;

/// <summary>Options of the saturation detector: tanh / sigmoid layers whose outputs sit in the flat tails of the activation.</summary>
/// <remarks>
/// It reads <see cref="ActivationStatistics.SaturatedFraction"/>, which adapters measure with SageMaker Debugger's
/// SaturatedActivation thresholds (tanh pre-activation |x| &gt; 9.4999; sigmoid pre-activation &lt; −23 or &gt; 16.99999).
/// Steps without activation statistics neither count for nor against persistence.
/// Defaults: persistence 2 of the last 3 measured steps (saturation is a state, not an event; one odd batch is not
/// worth an alert) and a cooldown of 100 steps.
/// </remarks>
public sealed class SaturationOptions : PersistentDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public SaturationOptions()
        : base(persistence: 2, persistenceWindow: 3, cooldownSteps: 100)
    {
    }

    /// <summary>A layer whose saturated fraction of output elements is above this value saturates. Must be in (0, 1).</summary>
    /// <value>The default value is 0.5: SageMaker Debugger SaturatedActivation's <c>threshold_layer</c> of 50%.</value>
    public double SaturatedFractionThreshold { get; set; } = 0.5;

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.InOpenRange(SaturatedFractionThreshold, 0, 1, $"{path}.{nameof(SaturatedFractionThreshold)}");
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.Saturation, "Saturation", AboutGradient: false);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new SaturationDetector(this);
}
