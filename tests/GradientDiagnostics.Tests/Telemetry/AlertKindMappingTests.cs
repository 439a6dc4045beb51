using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GradientDiagnostics.Tests.Telemetry;

/// <summary>The kind → EventId → log message → metric mapping is total: every <see cref="GradientAlertKind"/> has its
/// own EventId (1000 + its value, published in <see cref="GradientLogEvents"/>), EventName, message and alerts-counter
/// tag, and a kind without a mapping is never logged under another kind's id.</summary>
public sealed class AlertKindMappingTests
{
    public static TheoryData<GradientAlertKind> Kinds => [.. Enum.GetValues<GradientAlertKind>()];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_kind_logs_under_its_own_documented_event_id_and_name(GradientAlertKind kind)
    {
        Assert.True(AlertKindEvents.TryGet(kind, out AlertKindEvent mapping), $"{kind} has no mapping");
        var logger = new FakeLogger();

        Assert.True(Log.Alert(logger, Alert(kind)));

        FakeLogRecord record = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(1000 + (int)kind, record.Id.Id);
        Assert.Equal((mapping.EventName, kind.ToString()), (record.Id.Name, record.Id.Name)); // the event is named after its kind
        FieldInfo? published = typeof(GradientLogEvents).GetField(mapping.EventName, BindingFlags.Public | BindingFlags.Static);
        Assert.True(published is not null, $"GradientLogEvents.{mapping.EventName} is missing");
        Assert.Equal(record.Id.Id, (int)published.GetRawConstantValue()!);
        Assert.Equal(kind.ToString(), record.GetStructuredStateValue("Kind"));
        Assert.Equal("fc1", record.GetStructuredStateValue("Layer"));
        Assert.StartsWith($"{kind} ", record.Message, StringComparison.Ordinal);
        Assert.Contains("metric = 2 (threshold 1)", record.Message, StringComparison.Ordinal);
        Assert.EndsWith(". evidence", record.Message, StringComparison.Ordinal);
        Assert.Contains(" at step 3 in layer fc1", record.Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Warning, record.Level);
    }

    [Fact]
    public void Event_ids_and_names_are_distinct_across_kinds()
    {
        AlertKindEvent[] all = [.. AlertKindEvents.All];

        Assert.Equal(Enum.GetValues<GradientAlertKind>().Length, all.Length);
        Assert.Equal(all.Length, all.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(all.Length, all.Select(e => e.EventName).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_kind_is_counted_on_the_alerts_counter_with_its_tag(GradientAlertKind kind)
    {
        Assert.True(AlertKindEvents.TryGet(kind, out AlertKindEvent mapping));
        using var factory = new TestMeterFactory();
        using var alerts = new MetricCollector<long>(factory, GradientTelemetryInstruments.MeterName, GradientTelemetryInstruments.Alerts);
        using var metrics = new GradientMetrics([new LayerDescriptor("fc1")], new TelemetryOptions { MeterFactory = factory });

        metrics.OnStep(new GradientStepResult { Layers = [], Alerts = [Alert(kind)] }, 0);

        CollectedMeasurement<long> counted = Assert.Single(alerts.GetMeasurementSnapshot());
        Assert.Equal(mapping.MetricTag, counted.Tags[GradientTelemetryInstruments.AlertKindTag]);
        Assert.Equal(kind.ToString(), mapping.MetricTag);
    }

    [Fact]
    public void A_kind_without_mapping_is_not_logged_under_another_kinds_id()
    {
        var logger = new FakeLogger();

        Assert.False(Log.Alert(logger, Alert((GradientAlertKind)999)));

        Assert.Empty(logger.Collector.GetSnapshot());
    }

    private static GradientAlert Alert(GradientAlertKind kind) =>
        new(kind, GradientAlertSeverity.Warning, 3, "fc1", "metric", 2, 1, "evidence");
}
