namespace GradientDiagnostics;

/// <summary>Options of the exploding-through-time detector (<see cref="GradientAlertKind.ExplodingThroughTime"/>).</summary>
/// <remarks>
/// The detector reads the measured <see cref="RecurrentTimeProfile"/>s and fires for a layer whose back-propagated
/// signal grows across its sequence by more than <see cref="GrowthThreshold"/>: the product of its per-step gains
/// (<see cref="RecurrentTimeProfile.StepGains"/>) from the last step to the first. Defaults: persistence 1 of 1 (as the
/// exploding-gradient detector: one explosion is enough to damage the weights) and a cooldown of 100 steps.
/// </remarks>
public sealed class ExplodingThroughTimeOptions : PersistentDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public ExplodingThroughTimeOptions()
        : base(persistence: 1, persistenceWindow: 1, cooldownSteps: 100)
    {
    }

    /// <summary>A layer whose back-propagated signal grows by more than this factor from the last step of its sequence to
    /// the first explodes through time. Must be greater than 1.</summary>
    /// <value>The default value is 100, the mirror image of <see cref="ThroughTimeOptions.HorizonFraction"/> (0.01):
    /// growth by two orders of magnitude. A gain of 1.2 per step, a ReLU RNN with W_hh = 1.2·I, grows 1.2⁶⁰ ≈ 5.6e4 over
    /// 60 steps, while an orthogonal RNN with gain ≈ 1 stays near 1 (docs/recurrent.md).</value>
    public double GrowthThreshold { get; set; } = 100;

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.InOpenRange(GrowthThreshold, 1, double.MaxValue, $"{path}.{nameof(GrowthThreshold)}");
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.ExplodingThroughTime, "ExplodingThroughTime", AboutGradient: true);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new ExplodingThroughTimeDetector(this, context.ClippingConfigured);
}
