namespace GradientDiagnostics;

/// <summary>Options of the non-finite (NaN / ±Infinity) detector.</summary>
/// <remarks>
/// Every non-finite step is one lost or corrupting update, so there is no persistence. The default cooldown, 100 steps,
/// that applies only to the same source failing on consecutive steps (a diverged run). A new episode, or a new
/// source (another layer, or the loss), is always reported at once.
/// </remarks>
public sealed class NonFiniteGradientOptions : GradientDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public NonFiniteGradientOptions()
        : base(cooldownSteps: 100)
    {
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.NonFinite, "NonFiniteGradient", AboutGradient: true);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new NonFiniteGradientDetector(this);
}
