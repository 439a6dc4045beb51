namespace GradientDiagnostics;

/// <summary>Options of the precision detector: 16-bit layers (float16, bfloat16) whose gradients underflow or whose
/// weight updates are lost in rounding.</summary>
/// <remarks>
/// It reads <see cref="LayerGradientStatistics.UnderflowFraction"/> (every step) and
/// <see cref="LayerGradientStatistics.LostUpdateFraction"/> (full steps, when
/// <see cref="GradientMonitorOptions.CaptureParameterUpdates"/> is on); layers that are not 16-bit have neither and are
/// never judged. <see cref="LayerGradientStatistics.OverflowHeadroomBits"/> raises no alert of its own: dynamic loss
/// scaling keeps it near 0 on purpose (it grows the scale until a step overflows), and an overflow, the only way the
/// headroom loses signal, is a non-finite gradient, which the NonFinite detector reports and the step skips.
/// Defaults: persistence 2 of the last 3 measured steps (a state, not an event; one odd batch is not worth an alert),
/// judged separately for the two criteria, and a cooldown of 100 steps.
/// </remarks>
public sealed class PrecisionOptions : PersistentDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public PrecisionOptions()
        : base(persistence: 2, persistenceWindow: 3, cooldownSteps: 100)
    {
    }

    /// <summary>A 16-bit layer whose fraction of zero-or-subnormal gradient elements (as stored) is above this value is
    /// losing its gradient to underflow. Must be in (0, 1).</summary>
    /// <value>The default value is 0.5. Micikevicius et al. 2018 ("Mixed Precision Training", §3.2, Fig. 3) found 67% of
    /// an SSD model's activation-gradient values zero in float16 without loss scaling, which cost the model its accuracy;
    /// scaled, the same model matched float32. Half the elements carrying no or reduced precision is past what natural
    /// sparsity (inactive ReLU units, masked positions) gives a dense layer, and below that 67%.</value>
    public double UnderflowFractionThreshold { get; set; } = 0.5;

    /// <summary>A 16-bit layer whose fraction of weight elements left bit-identical by the last optimizer step is at or
    /// above this value has stopped learning from its updates. Must be in (0, 1].</summary>
    /// <value>The default value is 0.5. Zamirai et al. 2020 ("Revisiting BFloat16 Training") show that a bfloat16 weight
    /// ignores every update below half its ulp (2⁻⁹·|w| to 2⁻⁸·|w|), so that late in training most updates are lost and
    /// the model falls short of float32; with Adam or SGD and a nonzero gradient every float32 element moves, so more than
    /// half standing still is the rounding, not the optimizer.</value>
    public double LostUpdateFractionThreshold { get; set; } = 0.5;

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.InOpenRange(UnderflowFractionThreshold, 0, 1, $"{path}.{nameof(UnderflowFractionThreshold)}");
        OptionGuard.InClosedRange(LostUpdateFractionThreshold, double.Epsilon, 1, $"{path}.{nameof(LostUpdateFractionThreshold)}");
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.Precision, "Precision", AboutGradient: false);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new PrecisionDetector(this);
}
