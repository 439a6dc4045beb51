namespace GradientDiagnostics;

/// <summary>
/// What every detector shares: it can be turned off, and after firing it stays quiet for <see cref="CooldownSteps"/>
/// steps, so a bad run gives a few clear alerts rather than thousands. Detectors whose condition is judged over several
/// steps derive from <see cref="PersistentDetectorOptions"/> instead.
/// </summary>
public abstract class DetectorOptions
{
    private protected DetectorOptions(int cooldownSteps) => CooldownSteps = cooldownSteps;

    /// <summary>Whether the detector runs.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>After firing, the number of steps during which the same detector criterion does not fire again.
    /// Must be ≥ 0; 0 reports every step on which the condition holds.</summary>
    /// <value>The default depends on the detector; see its options class.</value>
    public int CooldownSteps { get; set; }

    /// <summary>How the alerts this detector raises are logged and counted.</summary>
    internal abstract AlertKindEvent AlertEvent { get; }

    /// <summary>Throws when a value is out of range; <paramref name="path"/> prefixes the option names in messages.</summary>
    internal virtual void Validate(string path) =>
        OptionGuard.InRange(CooldownSteps, 0, int.MaxValue, $"{path}.{nameof(CooldownSteps)}");

    /// <summary>Creates the detector at attach, after validation, from a copy of these options (so later changes to
    /// the user's options object have no effect on a running monitor); null when it is disabled or cannot run.</summary>
    internal IGradientDetector? Build(DetectorContext context) => Enabled ? CopyOptions().CreateDetector(context) : null;

    /// <summary>Creates the detector from these options, which are already a private copy.</summary>
    internal abstract IGradientDetector? CreateDetector(DetectorContext context);

    /// <summary>A copy taken at attach: the detector (or another reader, such as recovery) reads only its copy.</summary>
    internal DetectorOptions CopyOptions() => (DetectorOptions)MemberwiseClone();
}
