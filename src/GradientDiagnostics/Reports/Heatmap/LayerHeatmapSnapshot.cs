namespace GradientDiagnostics;

/// <summary>An immutable copy of a <see cref="LayerHeatmap"/>.</summary>
/// <param name="Columns">The columns in step order.</param>
/// <param name="Cells">Per column, one cell per layer in forward order: <c>Cells[column][layer]</c>.</param>
/// <param name="ExportedStepsPerColumn">How many exported steps each full column merges (a power of two).</param>
internal sealed record LayerHeatmapSnapshot(IReadOnlyList<HeatmapColumn> Columns, IReadOnlyList<HeatmapCell[]> Cells, int ExportedStepsPerColumn);
