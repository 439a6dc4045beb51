using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GradientDiagnostics.Tests.Telemetry;

public sealed class AlertEventIdTests
{
    [Theory]
    [InlineData(GradientAlertKind.Vanishing, GradientLogEvents.Vanishing, "Vanishing")]
    [InlineData(GradientAlertKind.Exploding, GradientLogEvents.Exploding, "Exploding")]
    [InlineData(GradientAlertKind.NonFinite, GradientLogEvents.NonFinite, "NonFinite")]
    [InlineData(GradientAlertKind.Saturation, 1003, "Saturation")]
    [InlineData(GradientAlertKind.DeadUnits, 1004, "DeadUnits")]
    [InlineData(GradientAlertKind.PoorInitialization, 1005, "PoorInitialization")]
    [InlineData(GradientAlertKind.UpdateRatio, 1006, "UpdateRatio")]
    [InlineData(GradientAlertKind.PersistentClipping, GradientLogEvents.PersistentClipping, "PersistentClipping")]
    [InlineData(GradientAlertKind.Recovery, GradientLogEvents.Recovery, "Recovery")]
    public void Each_alert_kind_logs_with_its_stable_event_id_and_fields(GradientAlertKind kind, int eventId, string eventName)
    {
        var logger = new FakeLogger();
        var alert = new GradientAlert(kind, GradientAlertSeverity.Information, 7, "fc1", "metric", 0.5, 0.25, "why and how to fix");

        Log.Alert(logger, alert);

        FakeLogRecord record = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal((eventId, eventName, LogLevel.Information), (record.Id.Id, record.Id.Name, record.Level));
        Assert.Equal((kind.ToString(), "fc1", "7"), (record.GetStructuredStateValue("Kind"), record.GetStructuredStateValue("Layer"), record.GetStructuredStateValue("Step")));
        Assert.Equal(1000 + (int)kind, eventId);
        Assert.Equal(kind.ToString(), eventName); // the event is named after the alert kind
    }
}
