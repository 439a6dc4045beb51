namespace GradientDiagnostics;

/// <summary>
/// The stable <see cref="Microsoft.Extensions.Logging.EventId"/> numbers the monitor logs with. Alerts log with one id
/// per <see cref="GradientAlertKind"/> (1000 + the kind's value); the self-diagnostics (failures of the library itself)
/// have ids from 1900; an adapter logs its own (1902, 1903) under the ids listed here.
/// </summary>
public static class GradientLogEvents
{
    /// <summary>A <see cref="GradientAlertKind.Vanishing"/> alert (EventName <c>Vanishing</c>).</summary>
    public const int Vanishing = 1000;

    /// <summary>An <see cref="GradientAlertKind.Exploding"/> alert (EventName <c>Exploding</c>).</summary>
    public const int Exploding = 1001;

    /// <summary>A <see cref="GradientAlertKind.NonFinite"/> alert (EventName <c>NonFinite</c>).</summary>
    public const int NonFinite = 1002;

    /// <summary>A <see cref="GradientAlertKind.Saturation"/> alert (EventName <c>Saturation</c>).</summary>
    public const int Saturation = 1003;

    /// <summary>A <see cref="GradientAlertKind.DeadUnits"/> alert (EventName <c>DeadUnits</c>).</summary>
    public const int DeadUnits = 1004;

    /// <summary>A <see cref="GradientAlertKind.PoorInitialization"/> alert (EventName <c>PoorInitialization</c>).</summary>
    public const int PoorInitialization = 1005;

    /// <summary>A <see cref="GradientAlertKind.UpdateRatio"/> alert (EventName <c>UpdateRatio</c>).</summary>
    public const int UpdateRatio = 1006;

    /// <summary>A <see cref="GradientAlertKind.PersistentClipping"/> alert (EventName <c>PersistentClipping</c>).</summary>
    public const int PersistentClipping = 1007;

    /// <summary>A <see cref="GradientAlertKind.Recovery"/> alert: a refused step, a rollback, or recovery giving up
    /// (EventName <c>Recovery</c>).</summary>
    public const int Recovery = 1008;

    /// <summary>A <see cref="GradientAlertKind.Precision"/> alert: a 16-bit layer's gradients underflow, or its weight
    /// updates are lost in rounding (EventName <c>Precision</c>).</summary>
    public const int Precision = 1009;

    /// <summary>The periodic summary line of <see cref="TelemetryOptions.SummaryInterval"/>: global norm, worst
    /// layer, clip status (EventName <c>StepSummary</c>, level Information).</summary>
    public const int StepSummary = 1100;

    /// <summary>An <c>AlertRaised</c> subscriber threw; logged once per subscriber (EventName <c>AlertHandlerFailed</c>).</summary>
    public const int AlertHandlerFailed = 1900;

    /// <summary>A telemetry output (metrics, summary line, JSON Lines, report history, TensorBoard) failed; logged once
    /// per output, which is then switched off for the rest of the run (EventName <c>TelemetryOutputFailed</c>).</summary>
    public const int TelemetryOutputFailed = 1901;

    /// <summary>Logged by an adapter (the TorchSharp adapter's probes of <see cref="GradientMonitorOptions.CaptureLayerOutputs"/>):
    /// layer outputs its probes do not see (EventName <c>LayerOutputNotCaptured</c>, level Warning), in three messages: at
    /// attach, the layers that cannot be probed and why; on a full-statistics step that captured nothing at all, once, the
    /// probed layers and the likely cause in that framework; and once per layer whose capture did not run while others'
    /// did.</summary>
    public const int LayerOutputNotCaptured = 1902;

    /// <summary>At attach: enabled detectors that cannot run with the chosen options (for example Saturation and
    /// DeadUnits without <see cref="GradientMonitorOptions.CaptureLayerOutputs"/>), named with the option that would
    /// feed them; logged once, at Information (EventName <c>DetectorsIdle</c>).</summary>
    public const int DetectorsIdle = 1903;
}
