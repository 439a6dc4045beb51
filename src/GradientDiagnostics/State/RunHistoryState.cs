namespace GradientDiagnostics;

/// <summary>The report's bounded history (<see cref="GradientRunHistory"/>), so a report built after a resume covers the
/// whole run. Steps and alerts use the JSON Lines records (docs/telemetry.md).</summary>
internal sealed class RunHistoryState
{
    public long StepCount { get; set; }

    public long SkippedSteps { get; set; }

    public long AlertCount { get; set; }

    public long BucketWidth { get; set; } = 1;

    public List<NormBucket> Buckets { get; set; } = [];

    public NormBucket? PendingBucket { get; set; }

    public List<SavedAlert> FirstAlerts { get; set; } = [];

    public List<SavedAlert> LatestAlerts { get; set; } = [];

    public Dictionary<GradientAlertKind, long> AlertCounts { get; set; } = [];

    public StepRecord? LatestLayers { get; set; }

    public StepRecord? LatestProbed { get; set; }

    public HeatmapState Heatmap { get; set; } = new();
}

/// <summary>An alert kept for the report, with the step it was raised at.</summary>
internal sealed class SavedAlert
{
    public long Step { get; set; }

    public AlertRecord Alert { get; set; } = new();
}

/// <summary>The report's heatmap (<see cref="LayerHeatmap"/>): its columns, their cells (one per layer, forward order:
/// the document's layer list names them), the column being filled, and the merge width.</summary>
internal sealed class HeatmapState
{
    public int ColumnWidth { get; set; } = 1;

    public double PreviousLossScale { get; set; } = double.NaN;

    public List<HeatmapColumn> Columns { get; set; } = [];

    public List<HeatmapCell[]> Cells { get; set; } = [];

    public HeatmapColumn? PendingColumn { get; set; }

    public HeatmapCell[]? PendingCells { get; set; }
}
