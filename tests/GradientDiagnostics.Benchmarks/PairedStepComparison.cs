using System.Diagnostics;
using System.Globalization;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// A paired, interleaved comparison of training-step variants on (a), for differences of a few per cent that
/// BenchmarkDotNet's one-method-after-another runs cannot resolve on a shared machine (its medians of the same plain
/// step move by 10–20 % between classes). Each variant trains its own copy of (a) (same seed); one step of every variant
/// runs in turn, in a rotating order, so drift in the machine's speed hits all variants alike. Steps are summed per cycle of
/// 20 (one full-statistics step of the default cadence in each), and differences are taken between the cycles of the
/// same round before the median: a paired design.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired [cycles]</c>.</remarks>
internal static class PairedStepComparison
{
    private const int Steps = TrainingStepBenchmarks.StepsPerInvoke;

    private static readonly (string Name, Action<GradientMonitorOptions>? Configure)[] Variants =
    [
        ("plain step", null),
        ("step + monitor", _ => { }),
        ("step + monitor + CaptureLayerOutputs", o => o.CaptureLayerOutputs = true),
        ("step + monitor, full every step", o => o.FullStatisticsInterval = 1),
        ("step + monitor + CaptureLayerOutputs, full every step", o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 1; }),
    ];

    public static void Run(int cycles)
    {
        var runs = Variants.Select(v =>
        {
            var workload = Workload.Create("a_mlp_50x512");
            return (v.Name, Workload: workload, Optimizer: optim.SGD(workload.Model.parameters(), 1e-4),
                Monitor: v.Configure is null ? null : workload.Model.AttachGradientMonitor(v.Configure), Cycles: new List<double>());
        }).ToArray();

        Console.WriteLine($"Paired comparison on a_mlp_50x512: {runs.Length} variants, 1 warm-up cycle + {cycles} cycles of {Steps} steps each.");
        for (int cycle = -1; cycle < cycles; cycle++)
        {
            double[] totals = new double[runs.Length];
            for (int step = 0; step < Steps; step++)
            {
                for (int k = 0; k < runs.Length; k++)
                {
                    int i = (k + step) % runs.Length; // rotate the order, so no variant always follows the same one
                    long start = Stopwatch.GetTimestamp();
                    if (runs[i].Monitor is { } monitor)
                    {
                        TrainingSteps.Monitored(runs[i].Workload, runs[i].Optimizer, monitor);
                    }
                    else
                    {
                        TrainingSteps.Plain(runs[i].Workload, runs[i].Optimizer);
                    }

                    totals[i] += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
            }

            if (cycle >= 0)
            {
                for (int i = 0; i < runs.Length; i++)
                {
                    runs[i].Cycles.Add(totals[i] / Steps);
                }

                Console.Write(cycle % 10 == 9 ? $"{cycle + 1}\n" : ".");
            }
        }

        List<double> plain = runs[0].Cycles, monitored = runs[1].Cycles, full = runs[3].Cycles;
        double plainMedian = Median(plain);
        Console.WriteLine();
        Console.WriteLine("| (a), per step, averaged over cycles of 20 steps | median (ms) | median paired difference vs plain step | vs step + monitor | / plain step |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var run in runs)
        {
            double toPlain = MedianDifference(run.Cycles, plain), toMonitor = MedianDifference(run.Cycles, monitored);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run.Name} | {Median(run.Cycles):F2} | {toPlain:+0.00;-0.00} ms | {toMonitor:+0.00;-0.00} ms | {toMonitor / plainMedian:+0.0%;-0.0%} |"));
        }

        double probes = MedianDifference(runs[4].Cycles, full);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Probes' own cost on a full step (full every step, with minus without probes, paired): {probes:F2} ms = {probes / plainMedian:0.0%} of the plain step's median {plainMedian:F2} ms."));
        foreach (var run in runs)
        {
            run.Monitor?.Dispose();
            run.Optimizer.Dispose();
            run.Workload.Dispose();
        }
    }

    internal static double Median(List<double> values)
    {
        List<double> sorted = [.. values.Order()];
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    internal static double MedianDifference(List<double> values, List<double> baseline) =>
        Median([.. values.Zip(baseline, (a, b) => a - b)]);
}
