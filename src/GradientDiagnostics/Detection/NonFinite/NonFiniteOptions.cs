namespace GradientDiagnostics;

/// <summary>Options of the non-finite (NaN / ±Infinity) detector.</summary>
/// <remarks>
/// Every non-finite step is one lost or corrupting update, so there is no persistence. The default cooldown, 100 steps,
/// that applies only to the same source failing on consecutive steps (a diverged run). A new episode, or a new
/// source (another layer, or the loss), is always reported at once.
/// </remarks>
public sealed class NonFiniteOptions : DetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public NonFiniteOptions()
        : base(cooldownSteps: 100)
    {
    }

    /// <summary>Whether the monitor records, cheaply and on the device, whether each module's forward output is finite
    /// (every module called through <c>call()</c>, parameterless ones included), so a NonFinite alert names the module
    /// that first produced a NaN / ±Infinity in the forward pass (<see cref="GradientAlert.Origin"/>). Works without
    /// <see cref="GradientMonitorOptions.CaptureLayerOutputs"/>. Costs one reduction per module call and tensor; see
    /// docs/reliability.md for the measured cost. When the step's weights are themselves non-finite, no module is named
    /// (<see cref="GradientAlert.Origin"/> is null): the first module to use a broken weight only looks like the origin,
    /// and the alert names the weights and the optimizer step after which they became non-finite instead.</summary>
    /// <value>The default value is <see langword="false"/>: no forward hook is added for it.</value>
    /// <remarks>Each module's input and output is reduced to one sum: float32 and float64 tensors in their own dtype,
    /// float16 and bfloat16 in float32; integer and bool tensors are not reduced (they cannot hold a NaN). An output with a
    /// NaN or ±Infinity element has a non-finite sum. So has a finite output whose sum's magnitude passes the accumulating
    /// dtype's largest value (3.4e38 for float32): such a module is named as the origin, which is intended, since an
    /// output that large is itself an explosion.</remarks>
    public bool TraceOrigin { get; set; }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.NonFinite, "NonFinite", AboutGradient: true);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new NonFiniteGradientDetector(this);
}
