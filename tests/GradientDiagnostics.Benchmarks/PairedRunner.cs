using System.Diagnostics;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// Runs step variants in alternating cycles of <see cref="CycleSteps"/> steps (one full-statistics step of the default
/// cadence in each): a round runs one cycle of every variant, in an order that rotates from round to round, so drift in a
/// shared machine's speed hits every variant alike. Differences and ratios are taken between the cycles of the same round
/// (a paired design) before any median. Variants may share one model (the whole-step comparison does): then nothing but
/// the variant differs, not even where the model's memory lies, and a cost a variant leaves behind (in the next forward,
/// backward or optimizer step) stays inside its own cycle except at the cycle's last step.
/// </summary>
internal static class PairedRunner
{
    /// <summary>Steps per cycle: one full-statistics period of the default <c>FullStatisticsInterval</c> (20).</summary>
    public const int CycleSteps = TrainingStepBenchmarks.StepsPerInvoke;

    /// <summary>One variant: a training step that returns the time spent inside the monitor's <c>Step()</c> (ms; 0 when none);
    /// <paramref name="BeforeCycle"/> and <paramref name="AfterCycle"/> run untimed around each of its cycles (to attach a
    /// monitor for its own cycles only, when the monitor's hooks would otherwise run in the other variants' steps too).</summary>
    public sealed record Variant(string Name, Func<double> Step, Action? BeforeCycle = null, Action? AfterCycle = null);

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

    /// <summary>Runs the warm-up, then up to <paramref name="cycles"/> measured rounds; with a <paramref name="deadline"/>,
    /// stops after the round during which it passed (at least 10 measured rounds, for the confidence interval).</summary>
    public static Cycles[] Run(IReadOnlyList<Variant> variants, int warmupSteps, int cycles, Action<int>? progress = null, DateTime? deadline = null)
        => Run(variants, warmupSteps, cycles, progress, deadline, BenchmarkDevice.Sync);

    /// <summary>As above; <paramref name="sync"/> (CUDA: <c>torch.cuda.synchronize</c>) ends every timed step.</summary>
    public static Cycles[] Run(IReadOnlyList<Variant> variants, int warmupSteps, int cycles, Action<int>? progress, DateTime? deadline, Action? sync)
    {
        var results = variants.Select(_ => new Cycles()).ToArray();
        int warmupRounds = (warmupSteps + CycleSteps - 1) / CycleSteps;
        for (int round = -warmupRounds; round < cycles && !(round >= 10 && DateTime.UtcNow > deadline); round++)
        {
            for (int k = 0; k < variants.Count; k++)
            {
                int i = (k + round + warmupRounds) % variants.Count; // rotate the order, so no variant always follows the same one
                double total = 0, inside = 0, cpu = 0;
                int gcBefore = GC.CollectionCount(0);
                long poolBefore = ThreadPool.CompletedWorkItemCount;
                variants[i].BeforeCycle?.Invoke();
                for (int step = 0; step < CycleSteps; step++)
                {
                    TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
                    long start = Stopwatch.GetTimestamp();
                    inside += variants[i].Step();
                    sync?.Invoke();
                    total += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    cpu += (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
                }

                variants[i].AfterCycle?.Invoke();

                if (round >= 0)
                {
                    results[i].StepMs.Add(total / CycleSteps);
                    results[i].InsideMs.Add(inside / CycleSteps);
                    results[i].CpuMs.Add(cpu / CycleSteps);
                    results[i].Gen0PerStep.Add((double)(GC.CollectionCount(0) - gcBefore) / CycleSteps);
                    results[i].PoolItemsPerStep.Add((double)(ThreadPool.CompletedWorkItemCount - poolBefore) / CycleSteps);
                }
            }

            if (round >= 0)
            {
                progress?.Invoke(round);
            }
        }

        return results;
    }

    /// <summary>Times each call once per round, in an order that rotates every round, after 5 warm-up rounds;
    /// <paramref name="beforeEach"/> (untimed) resets the inputs before every call. Returns the milliseconds per call and
    /// round, so rounds pair across calls.</summary>
    public static List<double>[] TimeInterleaved(IReadOnlyList<Action> calls, int rounds, Action beforeEach)
    {
        const int warmupRounds = 5;
        List<double>[] times = [.. calls.Select(_ => new List<double>(rounds))];
        for (int round = -warmupRounds; round < rounds; round++)
        {
            for (int k = 0; k < calls.Count; k++)
            {
                int i = (k + round + warmupRounds) % calls.Count;
                beforeEach();
                long start = Stopwatch.GetTimestamp();
                calls[i]();
                BenchmarkDevice.Sync?.Invoke();
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (round >= 0)
                {
                    times[i].Add(ms);
                }
            }
        }

        return times;
    }

    public static double Median(IReadOnlyList<double> values) => Quantile(values, 0.5);

    /// <summary>"median [low, high]" of the paired ratios <paramref name="ours"/>[i] / <paramref name="theirs"/>[i].</summary>
    public static string RatioWithInterval(IReadOnlyList<double> ours, IReadOnlyList<double> theirs)
    {
        List<double> ratio = Paired(ours, theirs, (a, b) => a / b);
        (double low, double high) = MedianConfidence95(ratio);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Median(ratio):F2} [{low:F2}, {high:F2}]");
    }

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
