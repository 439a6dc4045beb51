using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace GradientDiagnostics.Tests.Telemetry;

public sealed class MetricsTests
{
    private const string Meter = GradientTelemetryInstruments.MeterName;

    [Fact]
    public void Steps_global_norm_skips_alerts_and_overhead_are_recorded_on_the_factory_meter()
    {
        using var factory = new TestMeterFactory();
        using var steps = new MetricCollector<long>(factory, Meter, GradientTelemetryInstruments.Steps);
        using var norms = new MetricCollector<double>(factory, Meter, GradientTelemetryInstruments.GlobalNorm);
        using var skipped = new MetricCollector<long>(factory, Meter, GradientTelemetryInstruments.SkippedSteps);
        using var alerts = new MetricCollector<long>(factory, Meter, GradientTelemetryInstruments.Alerts);
        using var overhead = new MetricCollector<double>(factory, Meter, GradientTelemetryInstruments.Overhead);
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(6, o => o.Telemetry.MeterFactory = factory);

        List<GradientStepResult> results = SyntheticRun.Run(analyzer, 5, gain: 0.9, nanSteps: 3);

        Assert.Equal(5, steps.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(results.Where(r => double.IsFinite(r.GlobalNorm)).Select(r => r.GlobalNorm), norms.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(1, skipped.GetMeasurementSnapshot().EvaluateAsCounter());
        CollectedMeasurement<long> nonFinite = Assert.Single(alerts.GetMeasurementSnapshot());
        Assert.Equal("NonFinite", nonFinite.Tags[GradientTelemetryInstruments.AlertKindTag]);
        Assert.Equal("Critical", nonFinite.Tags[GradientTelemetryInstruments.AlertSeverityTag]);
        Assert.Equal(5, overhead.GetMeasurementSnapshot().Count);
        Assert.All(overhead.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, 0, 1));
    }

    [Fact]
    public void Instruments_have_documented_names_ucum_units_and_log_scale_bucket_advice()
    {
        using var factory = new TestMeterFactory();
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    instruments.Add(instrument);
                }
            },
        };
        listener.Start();

        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(3, o => (o.Telemetry.MeterFactory, o.Telemetry.PerLayerMetrics) = (factory, true));

        Assert.All(instruments, i => Assert.Equal(Meter, i.Meter.Name));
        Assert.All(instruments, i => Assert.Matches("^gradient_diagnostics\\.[a-z_.]+$", i.Name));
        var units = instruments.ToDictionary(i => i.Name, i => i.Unit);
        Assert.Equal("1", units[GradientTelemetryInstruments.GlobalNorm]);
        Assert.Equal("s", units[GradientTelemetryInstruments.Overhead]);
        Assert.Equal("{alert}", units[GradientTelemetryInstruments.Alerts]);
        Assert.Equal("{step}", units[GradientTelemetryInstruments.SkippedSteps]);
        Assert.Equal("{step}", units[GradientTelemetryInstruments.ClippedSteps]);
        Assert.Equal("1", units[GradientTelemetryInstruments.ClipCoefficient]);
        Assert.Equal("1", units[GradientTelemetryInstruments.LayerGradientNorm]);
        Assert.Equal("1", units[GradientTelemetryInstruments.LossScale]);

        var norm = (Histogram<double>)instruments.Single(i => i.Name == GradientTelemetryInstruments.GlobalNorm);
        IReadOnlyList<double> buckets = norm.Advice!.HistogramBucketBoundaries!;
        Assert.Equal(GradientTelemetryInstruments.NormBucketBoundaries, buckets);
        Assert.All(buckets.Zip(buckets.Skip(1)), pair => Assert.Equal(10, pair.Second / pair.First, 9));
        var overhead = (Histogram<double>)instruments.Single(i => i.Name == GradientTelemetryInstruments.Overhead);
        Assert.Equal(GradientTelemetryInstruments.OverheadBucketBoundaries, overhead.Advice!.HistogramBucketBoundaries);
    }

    [Fact]
    public void Per_layer_metrics_are_off_by_default()
    {
        using var factory = new TestMeterFactory();
        using var perLayer = new MetricCollector<double>(factory, Meter, GradientTelemetryInstruments.LayerGradientNorm);
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(5, o => o.Telemetry.MeterFactory = factory);

        SyntheticRun.Run(analyzer, 2, gain: 1);

        Assert.Empty(perLayer.GetMeasurementSnapshot());
    }

    [Fact]
    public void Per_layer_metrics_when_on_are_capped_and_spread_across_depth()
    {
        using var factory = new TestMeterFactory();
        using var perLayer = new MetricCollector<double>(factory, Meter, GradientTelemetryInstruments.LayerGradientNorm);
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(40, o => (o.Telemetry.MeterFactory, o.Telemetry.PerLayerMetrics, o.Telemetry.MaxPerLayerMetricLayers) = (factory, true, 8));

        GradientStepResult result = SyntheticRun.Run(analyzer, 1, gain: 0.9)[0];

        var recorded = perLayer.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags[GradientTelemetryInstruments.LayerTag]!, m => m.Value);
        Assert.Equal(8, recorded.Count);
        Assert.Contains("blocks.0.linear", recorded.Keys);
        Assert.Contains("blocks.39.linear", recorded.Keys);
        Assert.All(recorded, kv => Assert.Equal(result.Layers.Single(l => l.Name == kv.Key).GradientNorm, kv.Value));
    }

    [Fact]
    public void Without_a_factory_the_shared_GradientDiagnostics_meter_is_used()
    {
        // A unique layer name isolates this test's measurements on the process-wide meter.
        string layer = $"unique-{Guid.NewGuid():N}";
        using var perLayer = new MetricCollector<double>(meterScope: null, Meter, GradientTelemetryInstruments.LayerGradientNorm);
        var options = new GradientMonitorOptions();
        options.Telemetry.PerLayerMetrics = true;
        using var analyzer = new GradientAnalyzer([layer], options);

        analyzer.Analyze([new LayerObservation(TensorStatistics.Compute([3f, 4f]))]);

        CollectedMeasurement<double> measurement = Assert.Single(perLayer.GetMeasurementSnapshot(), m => (string?)m.Tags[GradientTelemetryInstruments.LayerTag] == layer);
        Assert.Equal(5, measurement.Value, 6);
    }
}
