using Microsoft.Extensions.Logging;

namespace GradientDiagnostics;

/// <summary>The monitor's source-generated log messages: no formatting cost when the level is disabled.</summary>
internal static partial class Log
{
    private const string AlertTemplate = "{Kind} gradient at step {Step} in layer {Layer}: {Metric} = {Value} (threshold {Threshold}). {Diagnosis}";

    // The kinds that are not about the gradient itself read better without the word "gradient"; the fields are the same.
    private const string DiagnosticTemplate = "{Kind} at step {Step} in layer {Layer}: {Metric} = {Value} (threshold {Threshold}). {Diagnosis}";

    [LoggerMessage(EventId = GradientLogEvents.AlertHandlerFailed, EventName = "AlertHandlerFailed", Level = LogLevel.Warning,
        Message = "An AlertRaised subscriber ({Handler}) threw; the exception was caught so training goes on. Later failures of this subscriber are not " +
            "logged.")]
    public static partial void AlertHandlerFailed(ILogger logger, string handler, Exception exception);

    [LoggerMessage(EventId = GradientLogEvents.StepSummary, EventName = "StepSummary", Level = LogLevel.Information,
        Message = "Gradients at step {Step}: global norm {GlobalNorm}; worst layer {WorstLayer} (norm {WorstLayerNorm}); clipping {ClipStatus}; {AlertCount} " +
            "alerts.")]
    public static partial void StepSummary(ILogger logger, long step, double globalNorm, string worstLayer, double worstLayerNorm, string clipStatus,
        int alertCount);

    [LoggerMessage(EventId = GradientLogEvents.TelemetryOutputFailed, EventName = "TelemetryOutputFailed", Level = LogLevel.Warning,
        Message = "The telemetry output {Output} failed and is switched off for the rest of the run; training goes on.")]
    public static partial void TelemetryOutputFailed(ILogger logger, string output, Exception exception);

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
            logger.Log(level, new EventId(mapping.EventId, mapping.EventName), new AlertLogState(alert, mapping.AboutGradient ? AlertTemplate
                : DiagnosticTemplate),
                null, static (state, _) => state.ToString());
        }

        return true;
    }
}
