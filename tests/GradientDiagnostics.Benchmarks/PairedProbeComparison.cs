using System.Globalization;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The cost of <c>CaptureLayerOutputs</c> and of full statistics on every step, on (a), paired and interleaved
/// (<see cref="PairedRunner"/>): each variant trains its own copy of (a) (same seed).
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-probes [cycles]</c>.</remarks>
internal static class PairedProbeComparison
{
    private const int WarmupSteps = 60;

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
            var optimizer = optim.SGD(workload.Model.parameters(), 1e-4);
            GradientMonitor? monitor = v.Configure is null ? null : workload.Model.AttachGradientMonitor(v.Configure);
            return (v.Name, Workload: workload, Optimizer: optimizer, Monitor: monitor);
        }).ToArray();
        PairedRunner.Variant[] variants =
        [
            .. runs.Select(r => new PairedRunner.Variant(r.Name, r.Monitor is null
                ? () => TrainingSteps.Plain(r.Workload, r.Optimizer)
                : () => TrainingSteps.Monitored(r.Workload, r.Optimizer, r.Monitor))),
        ];

        Console.WriteLine($"Paired comparison on a_mlp_50x512: {runs.Length} variants, {WarmupSteps} warm-up steps each, {cycles} cycles of {PairedRunner.CycleSteps} steps.");
        PairedRunner.Cycles[] results = PairedRunner.Run(variants, WarmupSteps, cycles, c => Console.Write(c % 10 == 9 ? $"{c + 1}\n" : "."));
        List<double> plain = results[0].StepMs, monitored = results[1].StepMs, full = results[3].StepMs;
        double plainMedian = PairedRunner.Median(plain);
        Console.WriteLine();
        Console.WriteLine("| (a), per step, averaged over cycles of 20 steps | median (ms) | median paired difference vs plain step | vs step + monitor | / plain step |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        for (int i = 0; i < runs.Length; i++)
        {
            double toPlain = PairedRunner.Median(PairedRunner.Paired(results[i].StepMs, plain, (a, b) => a - b));
            double toMonitor = PairedRunner.Median(PairedRunner.Paired(results[i].StepMs, monitored, (a, b) => a - b));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {runs[i].Name} | {PairedRunner.Median(results[i].StepMs):F2} | {toPlain:+0.00;-0.00;0.00} ms | {toMonitor:+0.00;-0.00;0.00} ms | {toMonitor / plainMedian:+0.0%;-0.0%;0.0%} |"));
        }

        double probes = PairedRunner.Median(PairedRunner.Paired(results[4].StepMs, full, (a, b) => a - b));
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
}
