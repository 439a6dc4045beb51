namespace GradientDiagnostics;

/// <summary>
/// What the HTML report needs from a run, in bounded memory: the latest per-layer statistics, the latest probed
/// depth profile, the global norm downsampled into at most <see cref="ReportOptions.HistoryPoints"/> buckets,
/// the layers × steps heatmap in at most <see cref="ReportOptions.HeatmapColumns"/> columns (<see cref="LayerHeatmap"/>),
/// at most <see cref="ReportOptions.MaxAlerts"/> alerts, and each recurrent layer's latest time profile with its
/// horizon over training (<see cref="TimeProfileHistory"/>). Fed live by the analyzer or from a JSON Lines file.
/// </summary>
internal sealed partial class GradientRunHistory : IGradientStepObserver
{
    private readonly int _maxPoints;
    private readonly int _layersInterval;
    private readonly int _firstAlertsCapacity;
    private readonly int _latestAlertsCapacity;
    private readonly List<NormBucket> _buckets;
    private readonly List<GradientAlert> _firstAlerts = [];
    private readonly Queue<GradientAlert> _latestAlerts = new();
    private readonly Dictionary<GradientAlertKind, long> _alertCounts = [];
    private readonly LayerHeatmap _heatmap;
    private readonly TimeProfileHistory _timeProfiles;
    private long _bucketWidth = 1;
    private NormBucket? _pending;

    /// <param name="layers">The layers in forward order.</param>
    /// <param name="options">The bounds.</param>
    /// <param name="clipThreshold">The global-norm clip threshold, when clipping is on.</param>
    /// <param name="layersInterval">Per-layer statistics are taken from every this many steps and from steps with
    /// alerts: the JSON Lines export interval, so a live report and one built from the file show the same step.</param>
    public GradientRunHistory(IReadOnlyList<LayerDescriptor> layers, ReportOptions options, double? clipThreshold, int layersInterval = 1)
    {
        _layersInterval = layersInterval;
        Layers = layers;
        ClipThreshold = clipThreshold;
        _maxPoints = options.HistoryPoints;
        _firstAlertsCapacity = options.MaxAlerts / 2;
        _latestAlertsCapacity = options.MaxAlerts - _firstAlertsCapacity;
        _buckets = new List<NormBucket>(_maxPoints);
        _heatmap = new LayerHeatmap(layers.Count, options.HeatmapColumns);
        _timeProfiles = new TimeProfileHistory(options.HistoryPoints);
    }

    public IReadOnlyList<LayerDescriptor> Layers { get; }

    public double? ClipThreshold { get; }

    public long StepCount { get; private set; }

    public long SkippedSteps { get; private set; }

    public long AlertCount { get; private set; }

    /// <summary>The latest step that carried per-layer statistics.</summary>
    public GradientStepResult? LatestLayers { get; private set; }

    /// <summary>The latest step at which at least two layers had an output-gradient norm.</summary>
    public GradientStepResult? LatestProbed { get; private set; }

    public void OnStep(GradientStepResult result, double overheadSeconds) => Add(result);

    public void Add(GradientStepResult result)
    {
        StepCount++;
        if (result.SkipStep)
        {
            SkippedSteps++;
        }

        bool exported = result.Layers.Count > 0 && (result.Step % _layersInterval == 0 || result.Alerts.Count > 0);
        _heatmap.Add(result, exported);
        if (exported)
        {
            LatestLayers = result;
            if (result.ProbedLayerCount >= 2)
            {
                LatestProbed = result;
            }
        }

        _timeProfiles.Add(result);
        AddNorm(result.Step, result.GlobalNorm);
        foreach (GradientAlert alert in result.Alerts)
        {
            AddAlert(alert);
        }
    }

    /// <summary>An immutable copy for rendering.</summary>
    public GradientReportSnapshot Snapshot()
    {
        List<NormBucket> points = [.. _buckets];
        if (_pending is NormBucket pending)
        {
            points.Add(pending);
        }

        return new GradientReportSnapshot(
            Layers, ClipThreshold, StepCount, SkippedSteps, AlertCount, LatestLayers, LatestProbed,
            points, [.. _firstAlerts, .. _latestAlerts], new Dictionary<GradientAlertKind, long>(_alertCounts), _heatmap.Snapshot(),
            _timeProfiles.Snapshot());
    }

    public void Dispose()
    {
    }

    private void AddNorm(long step, double norm)
    {
        NormBucket point = NormBucket.Of(step, norm);
        _pending = _pending is NormBucket pending ? NormBucket.Merge(pending, point) : point;
        if (_pending.Value.Count < _bucketWidth)
        {
            return;
        }

        _buckets.Add(_pending.Value);
        _pending = null;
        if (_buckets.Count == _maxPoints)
        {
            // Full: merge neighbours pairwise and double the bucket width, so memory stays at _maxPoints buckets
            // whatever the run's length and every bucket covers the same number of steps.
            for (int i = 0; i < _maxPoints / 2; i++)
            {
                _buckets[i] = NormBucket.Merge(_buckets[2 * i], _buckets[(2 * i) + 1]);
            }

            _buckets.RemoveRange(_maxPoints / 2, _maxPoints / 2);
            _bucketWidth *= 2;
        }
    }

    private void AddAlert(GradientAlert alert)
    {
        AlertCount++;
        _alertCounts[alert.Kind] = _alertCounts.GetValueOrDefault(alert.Kind) + 1;
        if (_firstAlerts.Count < _firstAlertsCapacity)
        {
            _firstAlerts.Add(alert);
            return;
        }

        _latestAlerts.Enqueue(alert);
        if (_latestAlerts.Count > _latestAlertsCapacity)
        {
            _latestAlerts.Dequeue();
        }
    }
}
