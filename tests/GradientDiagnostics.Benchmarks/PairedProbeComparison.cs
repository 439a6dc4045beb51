using System.Globalization;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The cost of the layer-output probes (on by default since issue 25) and of full statistics on every step, paired and
/// interleaved (<see cref="PairedRunner"/>): each variant trains its own copy of the workload (same seed), because probes
/// install hooks that would run in a plain variant sharing the model. The plain step, the monitor without probes, and the
/// monitor with default options (probes at the full-statistics cadence) run on every workload; the full-every-step
/// variants only on (a), where they measure the probes' own cost on a full step. The bare read (the plain step plus one
/// <c>TensorPrimitives.Sum</c> pass over every gradient) is the floor of any monitor that reads every gradient byte on
/// every step: what the read alone costs a whole step on this machine. The defaults also run with the statistics pass's
/// read-ahead hint off (<see cref="ReadAhead"/>), its control.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-probes [cycles]
/// [--workloads a,b:rounds,…]</c>.</remarks>
internal static class PairedProbeComparison
{
    private const int WarmupSteps = 60;
    private const string BareRead = "plain step + a bare read of every gradient (one Sum pass, the floor)";
    private const string NoReadAhead = "step + monitor, defaults, without the read-ahead hint (ReadAhead off)";
    private const string Defaults = "step + monitor, defaults (probes at the full-statistics cadence)";

    public static void Run(int cycles, string[] workloads)
    {
        foreach (string spec in workloads)
        {
            string[] parts = spec.Split(':');
            RunWorkload(parts[0], parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : cycles);
        }
    }

    private static void RunWorkload(string name, int cycles)
    {
        var variants = new List<(string Name, Action<GradientMonitorOptions>? Configure)>
        {
            ("plain step", null),
            (BareRead, null),
            ("step + monitor, no probes", o => o.CaptureLayerOutputs = false),
            (Defaults, _ => { }),
            (NoReadAhead, _ => { }),
        };
        if (name == "a_mlp_50x512")
        {
            variants.Add(("step + monitor, no probes, full every step", o => (o.CaptureLayerOutputs, o.FullStatisticsInterval) = (false, 1)));
            variants.Add(("step + monitor + probes, full every step", o => o.FullStatisticsInterval = 1));
        }

        var runs = variants.Select(v =>
        {
            var workload = Workload.Create(name);
            var optimizer = optim.SGD(workload.Model.parameters(), 1e-4);
            GradientMonitor? monitor = v.Configure is null ? null : workload.Model.AttachGradientMonitor(v.Configure);
            return (v.Name, Workload: workload, Optimizer: optimizer, Monitor: monitor);
        }).ToArray();
        PairedRunner.Variant[] paired =
        [
            .. runs.Select(r => new PairedRunner.Variant(r.Name, r.Monitor is not null
                ? () => TrainingSteps.Monitored(r.Workload, r.Optimizer, r.Monitor)
                : r.Name == BareRead
                    ? () => TrainingSteps.PlainWithBareRead(r.Workload, r.Optimizer)
                    : () => TrainingSteps.Plain(r.Workload, r.Optimizer),
                r.Name == NoReadAhead ? () => ReadAhead.Enabled = false : null,
                r.Name == NoReadAhead ? () => ReadAhead.Enabled = true : null)),
        ];

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Paired comparison on {name}: {runs.Length} variants, {WarmupSteps} warm-up steps each, {cycles} cycles of {PairedRunner.CycleSteps} steps, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC."));
        PairedRunner.Cycles[] results = PairedRunner.Run(paired, WarmupSteps, cycles, c => Console.Write(c % 10 == 9 ? $"{c + 1}\n" : "."));
        List<double> plain = results[0].StepMs, monitored = results[2].StepMs;
        double plainMedian = PairedRunner.Median(plain);
        Console.WriteLine();
        Console.WriteLine($"| {name}, per step, averaged over cycles of 20 steps | median (ms) | paired ratio to the plain step, median [95% CI] | median paired difference vs plain step | vs monitor without probes | / plain step |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        for (int i = 0; i < runs.Length; i++)
        {
            List<double> ratio = PairedRunner.Paired(results[i].StepMs, plain, (a, b) => a / b);
            (double low, double high) = PairedRunner.MedianConfidence95(ratio);
            double toPlain = PairedRunner.Median(PairedRunner.Paired(results[i].StepMs, plain, (a, b) => a - b));
            double toMonitor = PairedRunner.Median(PairedRunner.Paired(results[i].StepMs, monitored, (a, b) => a - b));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {runs[i].Name} | {PairedRunner.Median(results[i].StepMs):F2} | {PairedRunner.Median(ratio):F3} [{low:F3}, {high:F3}] | {toPlain:+0.00;-0.00;0.00} ms | {toMonitor:+0.00;-0.00;0.00} ms | {toMonitor / plainMedian:+0.0%;-0.0%;0.0%} |"));
        }

        if (runs.Length == 7)
        {
            double probes = PairedRunner.Median(PairedRunner.Paired(results[6].StepMs, results[5].StepMs, (a, b) => a - b));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Probes' own cost on a full step (full every step, with minus without probes, paired): {probes:F2} ms = {probes / plainMedian:0.0%} of the plain step's median {plainMedian:F2} ms."));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Finished {DateTime.UtcNow:HH:mm} UTC, load average {File.ReadAllText("/proc/loadavg").Trim()}."));
        Console.WriteLine();
        foreach (var run in runs)
        {
            run.Monitor?.Dispose();
            run.Optimizer.Dispose();
            run.Workload.Dispose();
        }
    }
}
