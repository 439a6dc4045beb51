namespace GradientDiagnostics;

/// <summary>
/// What every detector shares: it can be turned off, it fires only when its condition held on
/// <see cref="Persistence"/> of the last <see cref="PersistenceWindow"/> steps, and after firing it stays quiet for
/// <see cref="CooldownSteps"/> steps, so a bad run gives a few clear alerts rather than thousands.
/// </summary>
public abstract class GradientDetectorOptions
{
    private protected GradientDetectorOptions(int persistence, int persistenceWindow, int cooldownSteps)
    {
        Persistence = persistence;
        PersistenceWindow = persistenceWindow;
        CooldownSteps = cooldownSteps;
    }

    /// <summary>Whether the detector runs.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>How many of the last <see cref="PersistenceWindow"/> steps the condition must hold on before the
    /// detector fires (k of n). Must be in [1, <see cref="PersistenceWindow"/>].</summary>
    /// <value>The default depends on the detector; see its options class.</value>
    public int Persistence { get; set; }

    /// <summary>The number of most recent steps that <see cref="Persistence"/> counts over (n). Must be in [1, 64].</summary>
    /// <value>The default depends on the detector; see its options class.</value>
    public int PersistenceWindow { get; set; }

    /// <summary>After firing, the number of steps during which the same detector criterion does not fire again.
    /// Must be ≥ 0; 0 reports every step on which the condition persists.</summary>
    /// <value>The default depends on the detector; see its options class.</value>
    public int CooldownSteps { get; set; }

    /// <summary>Throws when a value is out of range; <paramref name="path"/> prefixes the option names in messages.</summary>
    internal virtual void Validate(string path)
    {
        OptionGuard.InRange(PersistenceWindow, 1, 64, $"{path}.{nameof(PersistenceWindow)}");
        OptionGuard.InRange(Persistence, 1, PersistenceWindow, $"{path}.{nameof(Persistence)}");
        OptionGuard.InRange(CooldownSteps, 0, int.MaxValue, $"{path}.{nameof(CooldownSteps)}");
    }
}
