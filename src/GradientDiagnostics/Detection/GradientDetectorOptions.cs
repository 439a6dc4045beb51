namespace GradientDiagnostics;

/// <summary>
/// What every detector shares: it can be turned off, and after firing it stays quiet for <see cref="CooldownSteps"/>
/// steps, so a bad run gives a few clear alerts rather than thousands.
/// </summary>
public abstract class GradientDetectorOptions
{
    private protected GradientDetectorOptions(int cooldownSteps) => CooldownSteps = cooldownSteps;

    /// <summary>Whether the detector runs.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>After firing, the number of steps during which the same detector criterion does not fire again.
    /// Must be ≥ 0; 0 reports every step on which the condition holds.</summary>
    /// <value>The default depends on the detector; see its options class.</value>
    public int CooldownSteps { get; set; }

    /// <summary>Throws when a value is out of range; <paramref name="path"/> prefixes the option names in messages.</summary>
    internal virtual void Validate(string path) =>
        OptionGuard.InRange(CooldownSteps, 0, int.MaxValue, $"{path}.{nameof(CooldownSteps)}");

    /// <summary>A copy taken at attach, after validation: the detector reads only its copy, so later changes to the
    /// user's options object have no effect on a running monitor.</summary>
    internal GradientDetectorOptions CopyOptions() => (GradientDetectorOptions)MemberwiseClone();
}
