using System.Diagnostics;
using System.Globalization;
using GradientDiagnostics.TorchSharp;
using GradientDiagnostics.TorchSharp.Recovery;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The costs of issue 16 on (a): the time to take and to restore one recovery snapshot (parameters + SGD-momentum or Adam
/// state), and the whole-step cost of <see cref="NonFiniteOptions.TraceOrigin"/> and of
/// <c>EnableRecovery</c>, measured as <see cref="PairedStepComparison"/> does: one step of each variant in turn, in a
/// rotating order, summed per cycle of 20 steps, and paired differences between the cycles of the same round.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --recovery [cycles]</c>.</remarks>
internal static class RecoveryCost
{
    private const int Steps = TrainingStepBenchmarks.StepsPerInvoke;

    public static void Run(int cycles)
    {
        MeasureSnapshots(rounds: 10);
        CompareSteps(cycles);
    }

    private static void MeasureSnapshots(int rounds)
    {
        foreach (bool adam in new[] { false, true })
        {
            using var workload = Workload.Create("a_mlp_50x512");
            using optim.Optimizer optimizer = adam ? optim.Adam(workload.Model.parameters(), 1e-4) : optim.SGD(workload.Model.parameters(), 1e-4, momentum: 0.9);
            TrainingSteps.Plain(workload, optimizer); // the optimizer's state exists from the first step
            var helper = (global::TorchSharp.Modules.OptimizerHelper)optimizer;
            List<Tensor> state = [.. workload.Model.parameters(), .. workload.Model.buffers()];
            var fresh = new List<double>();
            var recycledCapture = new List<double>();
            var restore = new List<double>();
            long bytes = 0;
            TrainingStateSnapshot? recycled = null;
            for (int round = -2; round < rounds; round++)
            {
                // Paired in each round: a capture into new memory (as every capture was before recycling, and as the first
                // MaxSnapshots captures still are), then a capture that recycles the previous snapshot, as steady state does.
                long start = Stopwatch.GetTimestamp();
                TrainingStateSnapshot.Capture(state, helper, onDevice: false).Dispose();
                double freshMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                start = Stopwatch.GetTimestamp();
                recycled = TrainingStateSnapshot.Capture(state, helper, onDevice: false, reuse: recycled);
                double recycledMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                start = Stopwatch.GetTimestamp();
                recycled.Restore(state, helper);
                double restored = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                bytes = recycled.Bytes;
                if (round >= 0)
                {
                    fresh.Add(freshMs);
                    recycledCapture.Add(recycledMs);
                    restore.Add(restored);
                }
            }

            recycled?.Dispose();
            long parameters = workload.Model.parameters().Sum(p => p.numel());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Snapshot of a_mlp_50x512 with {(adam ? "Adam" : "SGD + momentum")}: {bytes / 1e6:F1} MB ({bytes / (4.0 * parameters):F2} × the {parameters / 1e6:F1} M float32 parameters); capture into new memory median {PairedStepComparison.Median(fresh):F1} ms (min {fresh.Min():F1}), recycled capture median {PairedStepComparison.Median(recycledCapture):F1} ms (min {recycledCapture.Min():F1}), restore median {PairedStepComparison.Median(restore):F1} ms (min {restore.Min():F1}), {rounds} rounds."));
        }
    }

    private static void CompareSteps(int cycles)
    {
        (string Name, Action<GradientMonitorOptions>? Configure, bool Recovery)[] variants =
        [
            ("plain step", null, false),
            ("step + monitor", _ => { }, false),
            ("step + monitor + NonFinite.TraceOrigin", o => o.NonFinite.TraceOrigin = true, false),
            ("step + monitor + EnableRecovery (SGD momentum, SnapshotInterval 100)", _ => { }, true),
        ];
        var runs = variants.Select(v =>
        {
            var workload = Workload.Create("a_mlp_50x512");
            optim.Optimizer optimizer = optim.SGD(workload.Model.parameters(), 1e-4, momentum: 0.9);
            GradientMonitor? monitor = v.Configure is null ? null : workload.Model.AttachGradientMonitor(v.Configure);
            if (v.Recovery)
            {
                monitor!.EnableRecovery(optimizer);
            }

            return (v.Name, Workload: workload, Optimizer: optimizer, Monitor: monitor, Cycles: new List<double>());
        }).ToArray();

        Console.WriteLine($"Paired comparison on a_mlp_50x512: {runs.Length} variants, 3 warm-up cycles + {cycles} cycles of {Steps} steps each.");
        for (int cycle = -3; cycle < cycles; cycle++)
        {
            double[] totals = new double[runs.Length];
            for (int step = 0; step < Steps; step++)
            {
                for (int k = 0; k < runs.Length; k++)
                {
                    int i = (k + step) % runs.Length;
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

        List<double> plain = runs[0].Cycles, monitored = runs[1].Cycles;
        double plainMedian = PairedStepComparison.Median(plain);
        Console.WriteLine();
        Console.WriteLine("| (a), per step, averaged over cycles of 20 steps | median (ms) | paired difference vs plain step | vs step + monitor | / plain step | spread of the paired difference vs step + monitor (10th–90th percentile) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var run in runs)
        {
            double toPlain = PairedStepComparison.MedianDifference(run.Cycles, plain), toMonitor = PairedStepComparison.MedianDifference(run.Cycles, monitored);
            List<double> differences = [.. run.Cycles.Zip(monitored, (a, b) => a - b).Order()];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run.Name} | {PairedStepComparison.Median(run.Cycles):F2} | {toPlain:+0.00;-0.00;0.00} ms | {toMonitor:+0.00;-0.00;0.00} ms | {toMonitor / plainMedian:+0.0%;-0.0%;0.0%} | {differences[differences.Count / 10]:+0.00;-0.00;0.00} … {differences[differences.Count * 9 / 10]:+0.00;-0.00;0.00} ms |"));
        }

        foreach (var run in runs)
        {
            run.Monitor?.Dispose();
            run.Optimizer.Dispose();
            run.Workload.Dispose();
        }
    }
}
