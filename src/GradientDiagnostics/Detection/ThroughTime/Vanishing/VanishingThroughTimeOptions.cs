namespace GradientDiagnostics;

/// <summary>Options of the vanishing-through-time detector (<see cref="GradientAlertKind.VanishingThroughTime"/>).</summary>
/// <remarks>
/// The detector reads the measured <see cref="RecurrentTimeProfile"/>s and fires for a layer whose
/// <see cref="RecurrentTimeProfile.MemoryHorizon"/> covers less than <see cref="HorizonShareThreshold"/> of its sequence:
/// a dependency longer than the horizon reaches the weights with less than <see cref="ThroughTimeOptions.HorizonFraction"/>
/// of the gradient, so it cannot be learned. Defaults: persistence 2 of the last 3 measured steps (a state, not an
/// event) and a cooldown of 100 steps.
/// </remarks>
public sealed class VanishingThroughTimeOptions : PersistentDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public VanishingThroughTimeOptions()
        : base(persistence: 2, persistenceWindow: 3, cooldownSteps: 100)
    {
    }

    /// <summary>A layer whose memory horizon is below this share of its sequence length vanishes through time. Must be in
    /// (0, 1].</summary>
    /// <value>The default value is 0.5: the signal is lost within the nearer half of the sequence. Measured in this
    /// repository (docs/recurrent.md): a default-initialized tanh RNN keeps about 9 of 60 steps (0.15), while an
    /// orthogonal RNN with gain ≈ 1 keeps the whole sequence (no horizon).</value>
    public double HorizonShareThreshold { get; set; } = 0.5;

    internal override void Validate(string path)
    {
        base.Validate(path);
        // (0, 1]: Positive rejects 0, the upper bound is checked only when it passed, so one bad value is named once.
        string name = $"{path}.{nameof(HorizonShareThreshold)}";
        if (double.IsFinite(HorizonShareThreshold) && HorizonShareThreshold > 0)
        {
            OptionGuard.InClosedRange(HorizonShareThreshold, 0, 1, name);
        }
        else
        {
            OptionGuard.Positive(HorizonShareThreshold, name);
        }
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.VanishingThroughTime, "VanishingThroughTime", AboutGradient: true);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new VanishingThroughTimeDetector(this);
}
