using GradientDiagnostics.Tests.Clipping;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace GradientDiagnostics.Tests.Telemetry;

/// <summary>Clipping facts reach every telemetry output: metrics, the summary line, JSON Lines and the report.</summary>
public sealed class ClippingTelemetryTests
{
    private const string Meter = GradientTelemetryInstruments.MeterName;

    [Fact]
    public void Clip_coefficient_and_clipped_steps_are_recorded_when_global_norm_clipping_acts()
    {
        using var factory = new TestMeterFactory();
        using var clipped = new MetricCollector<long>(factory, Meter, GradientTelemetryInstruments.ClippedSteps);
        using var coefficients = new MetricCollector<double>(factory, Meter, GradientTelemetryInstruments.ClipCoefficient);
        var harness = new ClippingHarness(o => (o.Clipping, o.Telemetry.MeterFactory) = (GradientClipping.ByGlobalNorm(1.0), factory), ClippingHarness.Layer(3, 4), ClippingHarness.Layer(12));

        GradientStepResult acted = harness.Step();
        GradientStepResult idle = harness.Step([0.1f, 0.1f], [0.1f]);

        Assert.True(acted.ClippingActed);
        Assert.False(idle.ClippingActed);
        Assert.Equal(1, clipped.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1 / 13.000001, coefficients.GetMeasurementSnapshot()[0].Value, 1e-7);
    }

    [Fact]
    public void Summary_line_reports_the_clip_status()
    {
        var logger = new FakeLogger();
        var options = new GradientMonitorOptions { Clipping = GradientClipping.ByGlobalNorm(1.0) };
        options.Telemetry.SummaryInterval = 1;
        var target = new ArrayClippingTarget([ClippingHarness.Layer(3, 4)]);
        using var analyzer = new GradientAnalyzer(["layer0"], options, logger);

        GradientStepResult result = analyzer.Analyze(target.Observe(), null, target);

        Assert.True(result.ClippingActed);
        Assert.Contains("clipped x0.2", logger.Collector.GetSnapshot().Single(r => r.Id.Id == GradientLogEvents.StepSummary).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clipping_fields_round_trip_through_json_lines_and_the_report_draws_the_threshold()
    {
        string path = Path.Combine(Path.GetTempPath(), $"gd-clip-{Guid.NewGuid():N}.jsonl");
        try
        {
            var harness = new ClippingHarness(o => (o.Clipping, o.Telemetry.JsonLinesPath) = (GradientClipping.ByGlobalNorm(1.0), path), ClippingHarness.Layer(3, 4));
            GradientStepResult live = harness.Step();
            harness.Analyzer.Dispose();

            GradientStepResult loaded = GradientRun.Load(path).Steps.Single();

            Assert.Equal((live.NormBeforeClipping, live.NormAfterClipping, live.ClippingCoefficient, live.ClippingActed),
                (loaded.NormBeforeClipping, loaded.NormAfterClipping, loaded.ClippingCoefficient, loaded.ClippingActed));
            Assert.Equal(1.0, GradientRun.Load(path).ClipThreshold);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
