namespace GradientDiagnostics;

/// <summary>Options of the non-finite (NaN / ±Infinity) detector.</summary>
/// <remarks>
/// Every non-finite step is one lost or corrupting update, so there is no persistence. The default cooldown, 100 steps,
/// that applies only to the same source failing on consecutive steps (a diverged run). A new episode, or a new
/// source (another layer, or the loss), is always reported at once.
/// </remarks>
public sealed class NonFiniteGradientOptions : GradientDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public NonFiniteGradientOptions()
        : base(cooldownSteps: 100)
    {
    }

    /// <summary>Whether the monitor records, cheaply and on the device, whether each module's forward output is finite
    /// (every module called through <c>call()</c>, parameterless ones included), so a NonFinite alert names the module
    /// that first produced a NaN / ±Infinity in the forward pass (<see cref="GradientAlert.Origin"/>). Works without
    /// <see cref="GradientMonitorOptions.CaptureLayerOutputs"/>. Costs one reduction per module call and tensor; see
    /// docs/reliability.md for the measured cost.</summary>
    /// <value>The default value is <see langword="false"/>: no forward hook is added for it.</value>
    public bool TraceOrigin { get; set; }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.NonFinite, "NonFiniteGradient", AboutGradient: true);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new NonFiniteGradientDetector(this);
}
