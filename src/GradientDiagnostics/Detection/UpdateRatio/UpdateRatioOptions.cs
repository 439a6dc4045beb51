namespace GradientDiagnostics;

/// <summary>Options of the update-ratio detector: ‖Δw‖/‖w‖ per layer across an optimizer step.</summary>
/// <remarks>
/// It reads <see cref="LayerObservation.ParameterUpdateNorm"/> and <see cref="LayerObservation.Parameters"/>; steps
/// without them, and steps on which no measured layer changed at all (no optimizer step was applied), neither count
/// for nor against persistence. A ratio outside the hard band
/// [<see cref="MinRatio"/>, <see cref="MaxRatio"/>] is a Warning; one inside it but more than
/// <see cref="SoftBandFactor"/> away from <see cref="TypicalRatio"/> is Information. Defaults: persistence 3 of the
/// last 5 measured steps (a learning-rate schedule moves the ratio slowly; one odd step is noise) and a cooldown of
/// 100 steps.
/// <para>Off by default: measuring ‖Δw‖ costs a copy of every trainable parameter. Turning it on
/// (<c>o.UpdateRatio.Enabled = true</c>) also turns on that measurement in the TorchSharp adapter
/// (<see cref="GradientMonitorOptions.CaptureParameterUpdates"/>), so the detector never runs without its data.</para>
/// </remarks>
public sealed class UpdateRatioOptions : PersistentDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public UpdateRatioOptions()
        : base(persistence: 3, persistenceWindow: 5, cooldownSteps: 100)
    {
        Enabled = false;
    }

    /// <summary>A ratio below this value means the layer does not learn. Must be in (0, <see cref="MaxRatio"/>).</summary>
    /// <value>The default value is 1e-8: SageMaker Debugger WeightUpdateRatio's <c>small_threshold</c>.</value>
    public double MinRatio { get; set; } = 1e-8;

    /// <summary>A ratio above this value means the update overwrites the weights. Must be &gt; <see cref="MinRatio"/>.</summary>
    /// <value>The default value is 10: SageMaker Debugger WeightUpdateRatio's <c>large_threshold</c>.</value>
    public double MaxRatio { get; set; } = 10;

    /// <summary>The healthy update ratio the soft warning is centred on.</summary>
    /// <value>The default value is 1e-3: the rule of thumb of Stanford CS231n ("Neural Networks Part 3", Karpathy):
    /// updates about 1e-3 of the weights' magnitude.</value>
    public double TypicalRatio { get; set; } = 1e-3;

    /// <summary>A ratio more than this factor above or below <see cref="TypicalRatio"/> raises an Information alert.
    /// Must be &gt; 1.</summary>
    /// <value>The default value is 100 (two decades: the soft band is [1e-5, 1e-1]), chosen here so that ordinary
    /// learning-rate choices and schedules stay quiet.</value>
    public double SoftBandFactor { get; set; } = 100;

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.Positive(MinRatio, $"{path}.{nameof(MinRatio)}");
        // Against MinRatio only when MinRatio itself is valid, so one bad bound is reported once.
        OptionGuard.InOpenRange(MaxRatio, double.IsFinite(MinRatio) && MinRatio > 0 ? MinRatio : 0, double.MaxValue, $"{path}.{nameof(MaxRatio)}");
        OptionGuard.Positive(TypicalRatio, $"{path}.{nameof(TypicalRatio)}");
        OptionGuard.InOpenRange(SoftBandFactor, 1, double.MaxValue, $"{path}.{nameof(SoftBandFactor)}");
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.UpdateRatio, "UpdateRatio", AboutGradient: false);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new UpdateRatioDetector(this);
}
