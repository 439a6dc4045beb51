namespace GradientDiagnostics;

/// <content>The report's bounded history saved with a checkpoint, so a report built after a resume covers the whole run.</content>
internal sealed partial class GradientRunHistory
{
    /// <summary>The state to save with a checkpoint.</summary>
    public RunHistoryState SaveState() => new()
    {
        StepCount = StepCount,
        SkippedSteps = SkippedSteps,
        AlertCount = AlertCount,
        BucketWidth = _bucketWidth,
        Buckets = [.. _buckets],
        PendingBucket = _pending,
        FirstAlerts = [.. _firstAlerts.Select(RunRecordMapping.ToSaved)],
        LatestAlerts = [.. _latestAlerts.Select(RunRecordMapping.ToSaved)],
        AlertCounts = new Dictionary<GradientAlertKind, long>(_alertCounts),
        LatestLayers = LatestLayers is null ? null : RunRecordMapping.ToRecord(LatestLayers, withLayers: true),
        LatestProbed = LatestProbed is null ? null : RunRecordMapping.ToRecord(LatestProbed, withLayers: true),
        Heatmap = _heatmap.SaveState(),
    };

    /// <summary>Restores a state saved by <see cref="SaveState"/> for the same layers and bounds.</summary>
    /// <exception cref="InvalidDataException">The saved history does not fit this one.</exception>
    public void LoadState(RunHistoryState state)
    {
        if (state.Buckets.Count >= _maxPoints || state.BucketWidth < 1 ||
            state.FirstAlerts.Count > _firstAlertsCapacity || state.LatestAlerts.Count > _latestAlertsCapacity)
        {
            int alerts = state.FirstAlerts.Count + state.LatestAlerts.Count;
            throw new InvalidDataException(
                $"The saved report history ({state.Buckets.Count} norm buckets, {alerts} alerts) does not fit this monitor's report bounds.");
        }

        GradientStepResult? latestLayers = state.LatestLayers is null ? null : RunRecordMapping.ToResult(state.LatestLayers, Layers);
        GradientStepResult? latestProbed = state.LatestProbed is null ? null : RunRecordMapping.ToResult(state.LatestProbed, Layers);
        _heatmap.LoadState(state.Heatmap);
        (StepCount, SkippedSteps, AlertCount) = (state.StepCount, state.SkippedSteps, state.AlertCount);
        (_bucketWidth, _pending) = (state.BucketWidth, state.PendingBucket);
        (LatestLayers, LatestProbed) = (latestLayers, latestProbed);
        _buckets.Clear();
        _buckets.AddRange(state.Buckets);
        _firstAlerts.Clear();
        _firstAlerts.AddRange(state.FirstAlerts.Select(RunRecordMapping.ToAlert));
        _latestAlerts.Clear();
        foreach (SavedAlert alert in state.LatestAlerts)
        {
            _latestAlerts.Enqueue(RunRecordMapping.ToAlert(alert));
        }

        _alertCounts.Clear();
        foreach ((GradientAlertKind kind, long count) in state.AlertCounts)
        {
            _alertCounts[kind] = count;
        }
    }
}
