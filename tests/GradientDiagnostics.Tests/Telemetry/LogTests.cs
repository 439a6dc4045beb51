using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GradientDiagnostics.Tests.Telemetry;

public sealed class LogTests
{
    [Fact]
    public void Each_alert_kind_logs_under_its_own_event_id_and_name_with_structured_fields()
    {
        var logger = new FakeLogger();
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(8, logger: logger);

        List<GradientStepResult> results = SyntheticRun.Run(analyzer, 2, gain: 0.05, nanSteps: 1);

        GradientAlert vanishing = results[0].Alerts.First(a => a.Kind == GradientAlertKind.Vanishing);
        FakeLogRecord record = logger.Collector.GetSnapshot().First(r => r.Id.Id == GradientLogEvents.Vanishing);
        Assert.Equal(("Vanishing", LogLevel.Warning), (record.Id.Name, record.Level));
        Assert.Equal("Vanishing", record.GetStructuredStateValue("Kind"));
        Assert.Equal(vanishing.Layer, record.GetStructuredStateValue("Layer"));
        Assert.Equal("0", record.GetStructuredStateValue("Step"));
        Assert.Equal(vanishing.Metric, record.GetStructuredStateValue("Metric"));
        Assert.Equal(vanishing.Value, double.Parse(record.GetStructuredStateValue("Value")!, CultureInfo.InvariantCulture), 12);
        Assert.Equal(vanishing.Threshold, double.Parse(record.GetStructuredStateValue("Threshold")!, CultureInfo.InvariantCulture));

        FakeLogRecord nonFinite = logger.Collector.GetSnapshot().Single(r => r.Id.Id == GradientLogEvents.NonFinite);
        Assert.Equal(("NonFinite", LogLevel.Error, "1", "blocks.0.linear"),
            (nonFinite.Id.Name, nonFinite.Level, nonFinite.GetStructuredStateValue("Step"), nonFinite.GetStructuredStateValue("Layer")));
    }

    [Fact]
    public void Summary_line_every_N_steps_names_global_norm_worst_layer_and_clip_status()
    {
        var logger = new FakeLogger();
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(6, o => (o.Telemetry.SummaryInterval, o.Vanishing.Enabled) = (2, false), logger);

        List<GradientStepResult> results = SyntheticRun.Run(analyzer, 5, gain: 0.01);

        List<FakeLogRecord> summaries = [.. logger.Collector.GetSnapshot().Where(r => r.Id.Id == GradientLogEvents.StepSummary)];
        Assert.Equal(["0", "2", "4"], summaries.Select(r => r.GetStructuredStateValue("Step")));
        FakeLogRecord first = summaries[0];
        Assert.Equal(("StepSummary", LogLevel.Information), (first.Id.Name, first.Level));
        Assert.Equal(results[0].GlobalNorm, double.Parse(first.GetStructuredStateValue("GlobalNorm")!, CultureInfo.InvariantCulture), 12);
        // Gain 0.01 per layer: the input-side layer is 10 decades below the loss-side one, and farthest from the median.
        Assert.Equal("blocks.0.linear", first.GetStructuredStateValue("WorstLayer"));
        Assert.Equal("off", first.GetStructuredStateValue("ClipStatus"));
    }

    [Fact]
    public void Summary_line_is_off_by_default()
    {
        var logger = new FakeLogger();
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(4, logger: logger);

        SyntheticRun.Run(analyzer, 3, gain: 1);

        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.StepSummary);
    }

    [Fact]
    public void A_failing_telemetry_output_is_logged_once_switched_off_and_never_breaks_the_step()
    {
        var logger = new FakeLogger();
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(4, logger: logger);
        var failing = new FailingOutput();
        analyzer.AddStepObserver(failing);

        List<GradientStepResult> results = SyntheticRun.Run(analyzer, 3, gain: 1);

        Assert.Equal(3, results.Count);
        Assert.Equal(1, failing.Calls);
        Assert.True(failing.Disposed);
        FakeLogRecord record = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.TelemetryOutputFailed);
        Assert.Equal(("TelemetryOutputFailed", LogLevel.Warning, nameof(FailingOutput)), (record.Id.Name, record.Level, record.GetStructuredStateValue("Output")));
        Assert.IsType<IOException>(record.Exception);
        Assert.Equal(3, analyzer.CreateReport().StepCount);
    }

    [Fact]
    public void A_throwing_logger_never_breaks_the_step()
    {
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(6, o => o.Telemetry.SummaryInterval = 1, new ThrowingLogger());

        List<GradientStepResult> results = SyntheticRun.Run(analyzer, 3, gain: 0.01, nanSteps: 1);

        Assert.Equal(3, results.Count);
        Assert.True(results[1].SkipStep);
    }

    private sealed class FailingOutput : IGradientStepObserver
    {
        public int Calls { get; private set; }

        public bool Disposed { get; private set; }

        public void OnStep(GradientStepResult result, double overheadSeconds)
        {
            Calls++;
            throw new IOException("disk full");
        }

        public void Dispose() => Disposed = true;
    }

    private sealed class ThrowingLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            throw new InvalidOperationException("logging backend down");
    }
}
