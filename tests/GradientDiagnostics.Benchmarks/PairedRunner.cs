using System.Diagnostics;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// Runs step variants interleaved, one step of each in turn in a rotating order, so drift in a shared machine's speed hits
/// every variant alike; sums each variant's step times over cycles of <see cref="CycleSteps"/> steps (one full-statistics
/// step of the default cadence in each) after a warm-up. Differences and ratios are then taken between cycles of the same
/// round (a paired design) before any median.
/// </summary>
internal static class PairedRunner
{
    /// <summary>Steps per cycle: one full-statistics period of the default <c>FullStatisticsInterval</c> (20).</summary>
    public const int CycleSteps = TrainingStepBenchmarks.StepsPerInvoke;

    /// <summary>One variant: a training step that returns the time spent inside the monitor's <c>Step()</c> (ms; 0 when none).</summary>
    public sealed record Variant(string Name, Func<double> Step);

    /// <summary>What one variant measured, per cycle: mean whole-step time, mean time inside <c>Step()</c>, gen-0 GCs and
    /// thread-pool work items per step.</summary>
    public sealed class Cycles
    {
        public List<double> StepMs { get; } = [];

        public List<double> InsideMs { get; } = [];

        /// <summary>CPU time of the whole process (every thread: libtorch's, the thread pool's, the GC's) per step: work done
        /// and spinning, independent of how long other processes kept this one off the cores.</summary>
        public List<double> CpuMs { get; } = [];

        public List<double> Gen0PerStep { get; } = [];

        public List<double> PoolItemsPerStep { get; } = [];
    }

    public static Cycles[] Run(IReadOnlyList<Variant> variants, int warmupSteps, int cycles, Action<int>? progress = null)
    {
        var results = variants.Select(_ => new Cycles()).ToArray();
        int warmupCycles = (warmupSteps + CycleSteps - 1) / CycleSteps;
        for (int cycle = -warmupCycles; cycle < cycles; cycle++)
        {
            double[] total = new double[variants.Count], inside = new double[variants.Count], cpu = new double[variants.Count];
            long[] gen0 = new long[variants.Count], pool = new long[variants.Count];
            for (int step = 0; step < CycleSteps; step++)
            {
                for (int k = 0; k < variants.Count; k++)
                {
                    int i = (k + step) % variants.Count; // rotate the order, so no variant always follows the same one
                    int gcBefore = GC.CollectionCount(0);
                    long poolBefore = ThreadPool.CompletedWorkItemCount;
                    TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
                    long start = Stopwatch.GetTimestamp();
                    inside[i] += variants[i].Step();
                    total[i] += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    cpu[i] += (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
                    gen0[i] += GC.CollectionCount(0) - gcBefore;
                    pool[i] += ThreadPool.CompletedWorkItemCount - poolBefore;
                }
            }

            if (cycle >= 0)
            {
                for (int i = 0; i < variants.Count; i++)
                {
                    results[i].StepMs.Add(total[i] / CycleSteps);
                    results[i].InsideMs.Add(inside[i] / CycleSteps);
                    results[i].CpuMs.Add(cpu[i] / CycleSteps);
                    results[i].Gen0PerStep.Add((double)gen0[i] / CycleSteps);
                    results[i].PoolItemsPerStep.Add((double)pool[i] / CycleSteps);
                }

                progress?.Invoke(cycle);
            }
        }

        return results;
    }

    public static double Median(IReadOnlyList<double> values) => Quantile(values, 0.5);

    /// <summary>The q-quantile by linear interpolation between order statistics.</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        double[] sorted = [.. values.Order()];
        double position = q * (sorted.Length - 1);
        int low = (int)Math.Floor(position), high = (int)Math.Ceiling(position);
        return sorted[low] + ((sorted[high] - sorted[low]) * (position - low));
    }

    /// <summary>A distribution-free 95 % confidence interval of the median: the order statistics whose ranks the binomial
    /// (n, ½) bounds (normal approximation, n ≥ 10): ranks ⌊(n − 1.96√n)/2⌋ and ⌈1 + (n + 1.96√n)/2⌉, 1-based.</summary>
    public static (double Low, double High) MedianConfidence95(IReadOnlyList<double> values)
    {
        double[] sorted = [.. values.Order()];
        int n = sorted.Length;
        int low = Math.Max(1, (int)Math.Floor((n - (1.96 * Math.Sqrt(n))) / 2));
        int high = Math.Min(n, (int)Math.Ceiling(1 + ((n + (1.96 * Math.Sqrt(n))) / 2)));
        return (sorted[low - 1], sorted[high - 1]);
    }

    public static List<double> Paired(IReadOnlyList<double> a, IReadOnlyList<double> b, Func<double, double, double> combine) =>
        [.. a.Zip(b, combine)];
}
