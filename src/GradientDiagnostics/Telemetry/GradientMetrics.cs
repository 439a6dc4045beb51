using System.Diagnostics.Metrics;

namespace GradientDiagnostics;

/// <summary>Records each step on the <c>GradientDiagnostics</c> meter (names in
/// <see cref="GradientTelemetryInstruments"/>). Allocation-free per step: tag lists are built once.</summary>
internal sealed class GradientMetrics : IGradientStepObserver
{
    private static readonly Lazy<Meter> SharedMeter = new(() => new Meter(GradientTelemetryInstruments.MeterName, Version));

    private readonly Histogram<double> _globalNorm;
    private readonly Counter<long> _steps;
    private readonly Counter<long> _alerts;
    private readonly Counter<long> _skippedSteps;
    private readonly Counter<long> _clippedSteps;
    private readonly Histogram<double> _clipCoefficient;
    private readonly Histogram<double> _overhead;
    private readonly Gauge<double> _lossScale;
    private readonly TimeProfileMetrics _timeProfiles;
    private bool _lossScaled;
    private readonly Histogram<double>? _layerNorm;
    private readonly (int Index, KeyValuePair<string, object?> Tag)[] _layerTags;
    private readonly KeyValuePair<string, object?>[][] _alertTags;

    public GradientMetrics(IReadOnlyList<LayerDescriptor> layers, TelemetryOptions options)
    {
        // A factory-created meter belongs to the factory (the host disposes it); the shared meter lives as long as
        // the process, like the meters of the BCL's own libraries.
        Meter meter = options.MeterFactory?.Create(new MeterOptions(GradientTelemetryInstruments.MeterName) { Version = Version })
            ?? SharedMeter.Value;
        _globalNorm = meter.CreateHistogram(GradientTelemetryInstruments.GlobalNorm, "1",
            "L2 norm of all gradients of the network at a step, before clipping.", advice: Advice(GradientTelemetryInstruments.NormBucketBoundaries));
        _steps = meter.CreateCounter<long>(GradientTelemetryInstruments.Steps, "{step}", "Monitored training steps.");
        _alerts = meter.CreateCounter<long>(GradientTelemetryInstruments.Alerts, "{alert}", "Gradient alerts, by kind and severity.");
        _skippedSteps = meter.CreateCounter<long>(GradientTelemetryInstruments.SkippedSteps, "{step}", "Steps the monitor said to skip (non-finite gradients " +
            "or loss).");
        _clippedSteps = meter.CreateCounter<long>(GradientTelemetryInstruments.ClippedSteps, "{step}", "Steps at which clipping changed the gradients.");
        _clipCoefficient = meter.CreateHistogram(GradientTelemetryInstruments.ClipCoefficient, "1",
            "Factor in (0, 1] the gradients were multiplied by when clipping " +
                "ran.", advice: Advice(GradientTelemetryInstruments.ClipCoefficientBucketBoundaries));
        _lossScale = meter.CreateGauge<double>(GradientTelemetryInstruments.LossScale, "1", "The loss scale S of the last step (mixed precision).");
        _overhead = meter.CreateHistogram(GradientTelemetryInstruments.Overhead, "s",
            "The gradient monitor's own time per step.", advice: Advice(GradientTelemetryInstruments.OverheadBucketBoundaries));

        _timeProfiles = new TimeProfileMetrics(meter);
        _layerTags = [];
        if (options.PerLayerMetrics)
        {
            _layerNorm = meter.CreateHistogram(GradientTelemetryInstruments.LayerGradientNorm, "1",
                "L2 norm of one layer's parameter gradients at a step, before clipping.", advice: Advice(GradientTelemetryInstruments.NormBucketBoundaries));
            _layerTags = [.. SpreadIndices(layers.Count, options.MaxPerLayerMetricLayers)
                .Select(i => (i, new KeyValuePair<string, object?>(GradientTelemetryInstruments.LayerTag, layers[i].Name)))];
        }

        GradientAlertKind[] kinds = Enum.GetValues<GradientAlertKind>();
        GradientAlertSeverity[] severities = Enum.GetValues<GradientAlertSeverity>();
        // Indexed by enum value, which need not be contiguous.
        _alertTags = new KeyValuePair<string, object?>[(kinds.Max(k => (int)k) + 1) * SeverityCount][];
        foreach (GradientAlertKind kind in kinds)
        {
            foreach (GradientAlertSeverity severity in severities)
            {
                _alertTags[TagSlot(kind, severity)] =
                [
                    new(GradientTelemetryInstruments.AlertKindTag, kind.ToString()),
                    new(GradientTelemetryInstruments.AlertSeverityTag, severity.ToString()),
                ];
            }
        }
    }

    private static string? Version => typeof(GradientMetrics).Assembly.GetName().Version?.ToString();

    public void OnStep(GradientStepResult result, double overheadSeconds)
    {
        _steps.Add(1);
        if (double.IsFinite(result.GlobalNorm))
        {
            _globalNorm.Record(result.GlobalNorm);
        }

        if (result.SkipStep)
        {
            _skippedSteps.Add(1);
        }

        if (ClippingTelemetry.Coefficient(result) is double coefficient)
        {
            _clipCoefficient.Record(coefficient);
            if (ClippingTelemetry.Applied(result))
            {
                _clippedSteps.Add(1);
            }
        }

        foreach (GradientAlert alert in result.Alerts)
        {
            int slot = TagSlot(alert.Kind, alert.Severity);
            if ((uint)slot < (uint)_alertTags.Length)
            {
                _alerts.Add(1, _alertTags[slot]);
            }
            else
            {
                // A kind or severity added after this build's enums: still counted, with tags made on the spot.
                _alerts.Add(1, new KeyValuePair<string, object?>(GradientTelemetryInstruments.AlertKindTag, alert.Kind.ToString()),
                    new KeyValuePair<string, object?>(GradientTelemetryInstruments.AlertSeverityTag, alert.Severity.ToString()));
            }
        }

        if (_layerNorm is not null && _layerNorm.Enabled)
        {
            foreach ((int index, KeyValuePair<string, object?> tag) in _layerTags)
            {
                double norm = result.Layers[index].GradientNorm;
                if (double.IsFinite(norm))
                {
                    _layerNorm.Record(norm, tag);
                }
            }
        }

        _lossScaled |= result.LossScale != 1;
        if (_lossScaled)
        {
            _lossScale.Record(result.LossScale);
        }

        _timeProfiles.Record(result);
        _overhead.Record(overheadSeconds);
    }

    public void Dispose()
    {
        // Nothing to release: the meter belongs to the factory or to the process.
    }

    /// <summary>At most <paramref name="max"/> indices in [0, count), evenly spaced, always the first and the last.</summary>
    internal static IEnumerable<int> SpreadIndices(int count, int max)
    {
        if (count <= max)
        {
            return Enumerable.Range(0, count);
        }

        return Enumerable.Range(0, max).Select(k => (int)Math.Round(k * (count - 1) / (double)(max - 1))).Distinct();
    }

    private static readonly int SeverityCount = Enum.GetValues<GradientAlertSeverity>().Length;

    private static int TagSlot(GradientAlertKind kind, GradientAlertSeverity severity) => ((int)kind * SeverityCount) + (int)severity;

    private static InstrumentAdvice<double> Advice(IReadOnlyList<double> boundaries) => new() { HistogramBucketBoundaries = boundaries };
}
