namespace GradientDiagnostics;

/// <summary>Options of the non-finite (NaN / ±Infinity) detector.</summary>
/// <remarks>
/// Defaults: persistence 1 of 1 and no cooldown. Every non-finite step is a lost (skipped) or corrupting update,
/// so every one is reported.
/// </remarks>
public sealed class NonFiniteGradientOptions : GradientDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public NonFiniteGradientOptions()
        : base(persistence: 1, persistenceWindow: 1, cooldownSteps: 0)
    {
    }
}
