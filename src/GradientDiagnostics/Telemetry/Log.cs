using Microsoft.Extensions.Logging;

namespace GradientDiagnostics;

/// <summary>The monitor's source-generated log messages: no formatting cost when the level is disabled.</summary>
internal static partial class Log
{
    private const string AlertTemplate = "{Kind} gradient at step {Step} in layer {Layer}: {Metric} = {Value} (threshold {Threshold}). {Diagnosis}";

    // The kinds that are not about the gradient itself read better without the word "gradient"; the fields are the same.
    private const string DiagnosticTemplate = "{Kind} at step {Step} in layer {Layer}: {Metric} = {Value} (threshold {Threshold}). {Diagnosis}";

    [LoggerMessage(EventId = GradientLogEvents.AlertHandlerFailed, EventName = "AlertHandlerFailed", Level = LogLevel.Warning,
        Message = "An AlertRaised subscriber ({Handler}) threw; the exception was caught so training goes on. Later failures of this subscriber are not logged.")]
    public static partial void AlertHandlerFailed(ILogger logger, string handler, Exception exception);

    [LoggerMessage(EventId = GradientLogEvents.StepSummary, EventName = "StepSummary", Level = LogLevel.Information,
        Message = "Gradients at step {Step}: global norm {GlobalNorm}; worst layer {WorstLayer} (norm {WorstLayerNorm}); clipping {ClipStatus}; {AlertCount} alerts.")]
    public static partial void StepSummary(ILogger logger, long step, double globalNorm, string worstLayer, double worstLayerNorm, string clipStatus, int alertCount);

    [LoggerMessage(EventId = GradientLogEvents.TelemetryOutputFailed, EventName = "TelemetryOutputFailed", Level = LogLevel.Warning,
        Message = "The telemetry output {Output} failed and is switched off for the rest of the run; training goes on.")]
    public static partial void TelemetryOutputFailed(ILogger logger, string output, Exception exception);

    [LoggerMessage(EventId = GradientLogEvents.LayerOutputNotCaptured, EventName = "LayerOutputNotCaptured", Level = LogLevel.Warning,
        Message = "Layer {Layer} is probed but its output was not captured at step {Step}: its forward hooks did not run. If its parent calls {Layer}.forward(x), call it through call(x) instead so hooks run; until then it has no OutputGradientNorm or activation statistics. Logged once per layer.")]
    public static partial void LayerOutputNotCaptured(ILogger logger, string layer, long step);

    [LoggerMessage(EventId = GradientLogEvents.LayerOutputNotCaptured, EventName = "NoLayerOutputCaptured", Level = LogLevel.Warning,
        Message = "No layer output was captured at step {Step}: the forward hooks of all {ProbedCount} probed layers ({Layers}) did not run, so there is no depth profile, OutputGradientNorm, Saturation or DeadUnits. Likely cause: the model's forward calls its children with child.forward(x), which bypasses hooks; call them through child.call(x) instead. (A module whose computation is native, or whose forward bypasses call(), cannot be observed either.) Gradients are still measured. Logged once.")]
    public static partial void NoLayerOutputCaptured(ILogger logger, long step, int probedCount, string layers);

    [LoggerMessage(EventId = GradientLogEvents.LayerOutputNotCaptured, EventName = "LayerOutputNotProbed", Level = LogLevel.Warning,
        Message = "CaptureLayerOutputs is on, but layers {Layers} cannot be probed: {Reason}. Their gradients are still measured; they get no OutputGradientNorm or activation statistics. Logged once, at attach.")]
    public static partial void LayerOutputNotProbed(ILogger logger, string layers, string reason);

    [LoggerMessage(EventId = GradientLogEvents.DetectorsIdle, EventName = "DetectorsIdle", Level = LogLevel.Information,
        Message = "The {Detectors} detector(s) are enabled but idle: they need {Option} = true. Set it to run them, or set their Enabled = false to silence this message.")]
    public static partial void DetectorsIdle(ILogger logger, string detectors, string option);

    /// <summary>Logs an alert under its kind's EventId and EventName (<see cref="AlertKindEvents"/>), at the level its
    /// severity maps to, with the structured fields Kind, Step, Layer, Metric, Value, Threshold and Diagnosis.</summary>
    /// <returns>False when the kind has no mapping: nothing is logged, rather than logging under another kind's id.</returns>
    /// <remarks>Written by hand rather than with [LoggerMessage] because the EventId comes from the kind's mapping, which
    /// lives in the detector's folder; the state and message are those the generator would produce.</remarks>
    public static bool Alert(ILogger logger, GradientAlert alert)
    {
        if (!AlertKindEvents.TryGet(alert.Kind, out AlertKindEvent mapping))
        {
            return false;
        }

        LogLevel level = alert.Severity switch
        {
            GradientAlertSeverity.Critical => LogLevel.Error,
            GradientAlertSeverity.Warning => LogLevel.Warning,
            _ => LogLevel.Information,
        };

        if (logger.IsEnabled(level))
        {
            logger.Log(level, new EventId(mapping.EventId, mapping.EventName), new AlertLogState(alert, mapping.AboutGradient ? AlertTemplate : DiagnosticTemplate),
                null, static (state, _) => state.ToString());
        }

        return true;
    }
}
