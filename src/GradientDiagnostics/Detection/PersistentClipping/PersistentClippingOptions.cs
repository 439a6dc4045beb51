namespace GradientDiagnostics;

/// <summary>
/// Options of the alert raised when clipping acts on almost every step (<see cref="GradientAlertKind.PersistentClipping"/>):
/// the threshold is then below this model's typical gradient norm, so clipping has become a hidden learning-rate cut
/// rather than a guard against spikes. Runs only when <see cref="GradientMonitorOptions.Clipping"/> is set.
/// </summary>
/// <remarks>
/// Defaults: 60 of the last 64 steps (94%) and a cooldown of 1000 steps. AutoClip at its default percentile 10 acts on
/// about 90% of steps by design (Seetharaman et al. 2020), so the default sits above that; a threshold meant to catch
/// spikes (Pascanu, Mikolov &amp; Bengio 2013) should act on a small minority of steps.
/// </remarks>
public sealed class PersistentClippingOptions : PersistentDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public PersistentClippingOptions()
        : base(persistence: 60, persistenceWindow: 64, cooldownSteps: 1000)
    {
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.PersistentClipping, "PersistentClipping", AboutGradient: true);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => context.ClippingConfigured ? new PersistentClippingDetector(this) : null;
}
