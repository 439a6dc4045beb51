namespace GradientDiagnostics;

/// <summary>
/// Bounds the data the HTML report keeps (see <see cref="GradientReport"/>), so a run of any length uses constant
/// memory: the global norm is downsampled into at most <see cref="HistoryPoints"/> buckets (each keeps min, max and
/// geometric mean), the layers × steps heatmap into at most <see cref="HeatmapColumns"/> columns of one cell per layer,
/// and at most <see cref="MaxAlerts"/> alerts are kept, half the first ones and half the latest.
/// </summary>
public sealed class ReportOptions
{
    /// <summary>The most points of the global-norm-over-steps chart; when a run has more steps, neighbouring steps
    /// are merged into buckets. An even number, at least 16.</summary>
    /// <value>The default value is 1000: about one point per pixel of the report's 1000-pixel-wide chart.</value>
    public int HistoryPoints { get; set; } = 1000;

    /// <summary>The most columns of the layers × steps heatmap (log₁₀ mean |g| per layer at the exported steps); when a
    /// run has more exported steps, neighbouring columns merge pairwise, so each column covers the same number of
    /// exported steps (a power of two) and the heatmap holds at most layers × HeatmapColumns cells. An even number, at
    /// least 16.</summary>
    /// <value>The default value is 100: about 9 pixels per column of the report's 930-pixel-wide heatmap, wide enough to
    /// point at one column for its tooltip; at 200 layers that is at most 20,000 cells (the size this bound gives is
    /// measured in docs/reports.md).</value>
    public int HeatmapColumns { get; set; } = 100;

    /// <summary>The most alerts kept for the report's table: the first half as raised (the first alert usually names
    /// the cause) and the latest half. Counts per kind are always complete. At least 2.</summary>
    /// <value>The default value is 500: a table longer than that is no longer read; the counts tell the rest.</value>
    public int MaxAlerts { get; set; } = 500;

    internal void Validate(string path)
    {
        OptionGuard.InRange(HistoryPoints, 16, int.MaxValue, $"{path}.{nameof(HistoryPoints)}");
        if (HistoryPoints % 2 != 0)
        {
            throw new ArgumentOutOfRangeException($"{path}.{nameof(HistoryPoints)}", HistoryPoints, $"{path}.{nameof(HistoryPoints)} must be even; it was " +
                $"{HistoryPoints}.");
        }

        OptionGuard.InRange(HeatmapColumns, 16, int.MaxValue, $"{path}.{nameof(HeatmapColumns)}");
        if (HeatmapColumns % 2 != 0)
        {
            throw new ArgumentOutOfRangeException($"{path}.{nameof(HeatmapColumns)}", HeatmapColumns, $"{path}.{nameof(HeatmapColumns)} must be even; it was " +
                $"{HeatmapColumns}.");
        }

        OptionGuard.InRange(MaxAlerts, 2, int.MaxValue, $"{path}.{nameof(MaxAlerts)}");
    }
}
