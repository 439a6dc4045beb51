namespace GradientDiagnostics;

/// <summary>What happened over the steps of one heatmap column, beyond the layers' cells: the step range it covers
/// (every step since the previous column, up to and including its last exported step), how many of those steps were
/// exported, clipped (the policy acted) or changed the loss scale, the loss scale's range, and the alerts raised.</summary>
/// <remarks>Merge takes <c>a</c> as the earlier column.</remarks>
internal readonly record struct HeatmapColumn(
    long FirstStep,
    long LastStep,
    long? FirstExportedStep,
    long? LastExportedStep,
    int Steps,
    int ExportedSteps,
    int ClippedSteps,
    int LossScaleChanges,
    double MinLossScale,
    double MaxLossScale,
    int AlertCount,
    int CriticalAlertCount)
{
    public static HeatmapColumn Of(GradientStepResult result, bool exported, bool lossScaleChanged) => new(
        result.Step,
        result.Step,
        exported ? result.Step : null,
        exported ? result.Step : null,
        1,
        exported ? 1 : 0,
        result.ClippingActed ? 1 : 0,
        lossScaleChanged ? 1 : 0,
        result.LossScale,
        result.LossScale,
        result.Alerts.Count,
        result.Alerts.Count(a => a.Severity == GradientAlertSeverity.Critical));

    public static HeatmapColumn Merge(HeatmapColumn a, HeatmapColumn b) => new(
        Math.Min(a.FirstStep, b.FirstStep),
        Math.Max(a.LastStep, b.LastStep),
        a.FirstExportedStep ?? b.FirstExportedStep,
        b.LastExportedStep ?? a.LastExportedStep,
        a.Steps + b.Steps,
        a.ExportedSteps + b.ExportedSteps,
        a.ClippedSteps + b.ClippedSteps,
        a.LossScaleChanges + b.LossScaleChanges,
        Math.Min(a.MinLossScale, b.MinLossScale),
        Math.Max(a.MaxLossScale, b.MaxLossScale),
        a.AlertCount + b.AlertCount,
        a.CriticalAlertCount + b.CriticalAlertCount);
}
