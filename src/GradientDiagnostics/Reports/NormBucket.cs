namespace GradientDiagnostics;

/// <summary>The global norms of a run of consecutive steps, merged: one point of the report's global-norm chart.</summary>
internal readonly record struct NormBucket(long FirstStep, long LastStep, int Count, double Min, double Max, double LogSum, int FiniteCount, int NonFiniteCount)
{
    /// <summary>The geometric mean of the finite positive norms, NaN when there are none.</summary>
    public double GeometricMean => FiniteCount == 0 ? double.NaN : Math.Exp(LogSum / FiniteCount);

    public static NormBucket Of(long step, double norm) => double.IsFinite(norm) && norm > 0
        ? new(step, step, 1, norm, norm, Math.Log(norm), 1, 0)
        : new(step, step, 1, double.NaN, double.NaN, 0, 0, double.IsFinite(norm) ? 0 : 1);

    public static NormBucket Merge(NormBucket a, NormBucket b) => new(
        Math.Min(a.FirstStep, b.FirstStep),
        Math.Max(a.LastStep, b.LastStep),
        a.Count + b.Count,
        MinOf(a.Min, b.Min),
        MaxOf(a.Max, b.Max),
        a.LogSum + b.LogSum,
        a.FiniteCount + b.FiniteCount,
        a.NonFiniteCount + b.NonFiniteCount);

    // NaN stands for "no finite value yet", so it must lose against any number.
    private static double MinOf(double a, double b) => double.IsNaN(a) ? b : double.IsNaN(b) ? a : Math.Min(a, b);

    private static double MaxOf(double a, double b) => double.IsNaN(a) ? b : double.IsNaN(b) ? a : Math.Max(a, b);
}
