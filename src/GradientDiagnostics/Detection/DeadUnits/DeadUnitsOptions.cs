namespace GradientDiagnostics;

/// <summary>Options of the dead-unit detector: ReLU / GELU units that were never active over a window of measured steps.</summary>
/// <remarks>
/// It reads <see cref="ActivationStatistics.UnitActiveFraction"/> of layers followed by ReLU or GELU; leaky ReLU and
/// its kin keep a gradient for negative inputs, so their units cannot die.
/// The window is the persistence: a unit is dead only after <see cref="Window"/> measured steps without activity, so
/// the detector has no k-of-n persistence of its own; it fires on the first step the condition holds, with a cooldown
/// of 100 steps.
/// </remarks>
public sealed class DeadUnitsOptions : DetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public DeadUnitsOptions()
        : base(cooldownSteps: 100)
    {
    }

    /// <summary>A layer whose fraction of dead units is above this value fires. Must be in (0, 1).</summary>
    /// <value>The default value is 0.5: SageMaker Debugger DeadRelu's <c>threshold_layer</c> of 50%.</value>
    public double DeadFractionThreshold { get; set; } = 0.5;

    /// <summary>The number of consecutive measured steps (steps with activation statistics) a unit must stay inactive on
    /// every sample to be dead. Must be in [1, 100000].</summary>
    /// <value>The default value is 20, chosen here: a unit active on even one batch in 20 still receives gradient and
    /// can recover, while SageMaker Debugger's DeadRelu judges every step alone and is noisier.</value>
    public int Window { get; set; } = 20;

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.InOpenRange(DeadFractionThreshold, 0, 1, $"{path}.{nameof(DeadFractionThreshold)}");
        OptionGuard.InRange(Window, 1, 100_000, $"{path}.{nameof(Window)}");
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.DeadUnits, "DeadUnits", AboutGradient: false);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new DeadUnitsDetector(this, context.Layers.Count);
}
