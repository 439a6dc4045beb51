namespace GradientDiagnostics;

/// <summary>One layer's mean |g| over the exported steps of one heatmap column, merged: the sum, minimum and maximum of
/// log₁₀ mean |g| over the finite positive samples, and how many samples were finite, non-finite (NaN / ±Infinity in the
/// layer's gradient) or zero. The default value is the empty cell.</summary>
internal readonly record struct HeatmapCell(double LogSum, double MinLog, double MaxLog, int FiniteCount, int NonFiniteCount, int ZeroCount)
{
    /// <summary>log₁₀ of the geometric mean of the finite positive samples; NaN when there are none.</summary>
    public double MeanLog => FiniteCount == 0 ? double.NaN : LogSum / FiniteCount;

    public int SampleCount => FiniteCount + NonFiniteCount + ZeroCount;

    public static HeatmapCell Of(LayerGradientStatistics layer)
    {
        if (!layer.Gradient.IsFinite)
        {
            return new(0, 0, 0, 0, 1, 0);
        }

        double mean = layer.MeanMagnitude;
        if (!(mean > 0))
        {
            return new(0, 0, 0, 0, 0, 1);
        }

        double log = Math.Log10(mean);
        return new(log, log, log, 1, 0, 0);
    }

    public static HeatmapCell Merge(HeatmapCell a, HeatmapCell b) => new(
        a.LogSum + b.LogSum,
        a.FiniteCount == 0 ? b.MinLog : b.FiniteCount == 0 ? a.MinLog : Math.Min(a.MinLog, b.MinLog),
        a.FiniteCount == 0 ? b.MaxLog : b.FiniteCount == 0 ? a.MaxLog : Math.Max(a.MaxLog, b.MaxLog),
        a.FiniteCount + b.FiniteCount,
        a.NonFiniteCount + b.NonFiniteCount,
        a.ZeroCount + b.ZeroCount);
}
