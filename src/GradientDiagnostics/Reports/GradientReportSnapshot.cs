namespace GradientDiagnostics;

/// <summary>An immutable copy of a <see cref="GradientRunHistory"/>, what <see cref="GradientReport"/> renders.</summary>
internal sealed record GradientReportSnapshot(
    IReadOnlyList<LayerDescriptor> Layers,
    double? ClipThreshold,
    long StepCount,
    long SkippedSteps,
    long AlertCount,
    GradientStepResult? LatestLayers,
    GradientStepResult? LatestProbed,
    IReadOnlyList<NormBucket> GlobalNorms,
    IReadOnlyList<GradientAlert> Alerts,
    IReadOnlyDictionary<GradientAlertKind, long> AlertCounts,
    LayerHeatmapSnapshot Heatmap,
    IReadOnlyList<TimeProfileSeries> TimeProfiles);
