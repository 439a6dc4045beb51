using Microsoft.Extensions.Logging;

namespace GradientDiagnostics;

/// <summary>
/// Publishes each alert with fault isolation: logs it under its kind's EventId (<see cref="Log.Alert"/>), then calls
/// every <c>AlertRaised</c> subscriber on the caller's thread. A logger that throws is self-logged once; a subscriber
/// that throws is self-logged and logged once (EventId <see cref="GradientLogEvents.AlertHandlerFailed"/>) and keeps
/// being called; neither ever reaches the training loop.
/// </summary>
/// <param name="logger">Where alerts are logged.</param>
/// <param name="sender">The sender subscribers receive.</param>
internal sealed class AlertPublisher(ILogger logger, object sender)
{
    private readonly HashSet<Delegate> _failedHandlers = [];
    private readonly HashSet<GradientAlertKind> _unmappedKinds = [];
    private bool _loggerFailed;

    /// <summary>Logs <paramref name="alert"/> and raises it to <paramref name="handlers"/>.</summary>
    public void Publish(GradientAlert alert, EventHandler<GradientAlert>? handlers)
    {
        Exception? logFailure = FaultIsolation.Run((Logger: logger, Alert: alert, Unmapped: _unmappedKinds), static s =>
        {
            if (!Log.Alert(s.Logger, s.Alert) && s.Unmapped.Add(s.Alert.Kind))
            {
                GradientSelfLog.Write($"the alert kind {s.Alert.Kind} has no event id mapped, so its alerts are not logged (they are still raised as " +
                    "events); map it in its detector's options.");
            }
        });
        if (logFailure is not null && !_loggerFailed)
        {
            _loggerFailed = true;
            GradientSelfLog.Write("the logger threw while logging an alert; alerts are still raised as events, and later logger failures are not reported.",
                logFailure);
        }

        if (handlers is null)
        {
            return;
        }

        foreach (EventHandler<GradientAlert> handler in handlers.GetInvocationList().Cast<EventHandler<GradientAlert>>())
        {
            if (FaultIsolation.Run((Handler: handler, Sender: sender, Alert: alert), static s => s.Handler(s.Sender, s.Alert)) is Exception ex &&
                _failedHandlers.Add(handler))
            {
                ReportHandlerFailure(handler, ex);
            }
        }
    }

    private void ReportHandlerFailure(Delegate handler, Exception exception)
    {
        string name = $"{handler.Method.DeclaringType?.FullName}.{handler.Method.Name}";
        GradientSelfLog.Write($"an AlertRaised subscriber ({name}) threw; training goes on, and later failures of this subscriber are not reported.",
            exception);
        // The logger itself may be the thing that fails; the self-log above already has it, and Publish reports a failing logger.
        _ = FaultIsolation.Run((Logger: logger, Name: name, Exception: exception), static s => Log.AlertHandlerFailed(s.Logger, s.Name, s.Exception));
    }
}
