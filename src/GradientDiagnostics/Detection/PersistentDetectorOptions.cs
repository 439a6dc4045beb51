namespace GradientDiagnostics;

/// <summary>
/// Options of a detector that fires only when its condition held on <see cref="Persistence"/> of the last
/// <see cref="PersistenceWindow"/> steps (k of n), so one noisy step does not raise an alert.
/// </summary>
public abstract class PersistentDetectorOptions : DetectorOptions
{
    private protected PersistentDetectorOptions(int persistence, int persistenceWindow, int cooldownSteps)
        : base(cooldownSteps)
    {
        Persistence = persistence;
        PersistenceWindow = persistenceWindow;
    }

    /// <summary>How many of the last <see cref="PersistenceWindow"/> steps the condition must hold on before the
    /// detector fires (k of n). Must be in [1, <see cref="PersistenceWindow"/>].</summary>
    /// <value>The default depends on the detector; see its options class.</value>
    public int Persistence { get; set; }

    /// <summary>The number of most recent steps that <see cref="Persistence"/> counts over (n). Must be in [1, 64].</summary>
    /// <value>The default depends on the detector; see its options class.</value>
    public int PersistenceWindow { get; set; }

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.InRange(PersistenceWindow, 1, 64, $"{path}.{nameof(PersistenceWindow)}");
        // Against the window only when the window itself is valid, so one bad window is reported once.
        OptionGuard.InRange(Persistence, 1, PersistenceWindow is >= 1 and <= 64 ? PersistenceWindow : 64, $"{path}.{nameof(Persistence)}");
    }
}
