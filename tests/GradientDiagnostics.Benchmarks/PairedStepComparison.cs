using System.Globalization;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The whole training step with the monitor (default options, without the layer-output probes) against the plain step, on every workload, in alternating
/// cycles of 20 steps on <b>one</b> model and optimizer (<see cref="PairedRunner"/>), with <c>clip_grad_norm_</c> as the
/// yardstick: the variants differ only by the monitor's <c>Step()</c> (or the clipping call), not by where the model's
/// memory lies. The monitor is attached throughout, without probes so it has no hook, and a plain cycle simply does
/// not call <c>Step()</c>; <see cref="PairedProbeComparison"/> adds the probes' cost with one model per variant. The time inside <c>Step()</c> is timed too, so the cost that lands outside it is the added
/// time minus that.
/// With <c>--diagnose</c>, controls join: a second plain variant (the method's own noise), the plain step plus one
/// <c>Step()</c> of a monitor on a different, tiny model (the monitor's managed work and native calls, without this
/// model's tensors), and the monitor reading the gradients on the calling thread only (that last one alone with
/// <c>--read-control</c>, on the workloads where the parallel read runs: from 2²⁰ gradient elements, when libtorch's
/// threads leave a core free, e.g. with <c>--torch-threads 1</c>).
/// With <c>--path device|float64</c> the model and monitor take that <see cref="GradientPath"/>. With
/// <c>--attach-per-cycle</c> the monitor is attached only for its own cycles (attached before each, disposed after, both
/// untimed): needed once default options install hooks, which would otherwise run in the plain cycles too. Its state
/// then restarts every cycle, so every cycle holds the measurements a monitor makes on its first 20 steps.
/// </summary>
internal static class PairedStepComparison
{
    public static void Run(int cycles, int warmupSteps, string[] workloads, bool diagnose, bool readControl = false, double? minutes = null,
        GradientPath? path = null, bool attachPerCycle = false)
    {
        path ??= GradientPath.Managed;
        DateTime start = DateTime.UtcNow;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Paired whole-step comparison: {warmupSteps} warm-up steps per variant, then {cycles} cycles of {PairedRunner.CycleSteps} steps unless a "
            + $"workload names its own; libtorch threads {get_num_threads()}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, "
            + $"load average {LoadAverage()}."));
        string attached = attachPerCycle ? "attached only for its own cycles" : "attached throughout";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Path {path.Name}, device {BenchmarkDevice.Selected?.ToString() ?? "cpu"}, monitor with default options, {attached}."));
        using var switchScope = path.Enter();
        var rows = new List<string>();
        var details = new List<string>();
        for (int w = 0; w < workloads.Length; w++)
        {
            // With a time budget, each workload may use until its share of the budget has passed.
            DateTime? deadline = minutes is double m ? start.AddMinutes(m * (w + 1) / workloads.Length) : null;
            // "name:rounds" gives one workload its own number of rounds: short steps need more to resolve 1–2 %.
            string[] spec = workloads[w].Split(':');
            int rounds = spec.Length > 1 ? int.Parse(spec[1], CultureInfo.InvariantCulture) : cycles;
            (string row, string detail) = RunWorkload(spec[0], rounds, warmupSteps, (diagnose, readControl, attachPerCycle), path, deadline);
            rows.Add(row);
            details.Add(detail);
            Console.WriteLine(row);
            Console.WriteLine(detail);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Finished {DateTime.UtcNow:HH:mm} UTC."));
        Console.WriteLine();
        Console.WriteLine("| workload | plain step (ms) | step + monitor (ms) | paired step ratio, median [95% CI] | cycle ratios P25–P75 | added (ms) [95% CI] | inside Step() (ms) | outside Step() (ms) | clip_grad_norm_ added (ms) [95% CI] | added / clip_grad_norm_ added | added − 1.1 × clip_grad_norm_ added (ms) [95% CI] |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        details.ForEach(Console.WriteLine);
    }

    private static (string Row, string Detail) RunWorkload(string name, int cycles, int warmupSteps,
        (bool Diagnose, bool ReadControl, bool AttachPerCycle) options, GradientPath path, DateTime? deadline)
    {
        (bool diagnose, bool readControl, bool attachPerCycle) = options;
        var disposables = new List<IDisposable>();
        var workload = Workload.Create(name, path.ModelType, BenchmarkDevice.Selected);
        var optimizer = optim.SGD(workload.Model.parameters(), 1e-4);
        int parameterTensors = workload.Model.parameters().Count();
        GradientMonitor? monitor = null;
        void Attach()
        {
            // Attached for the whole run, it runs without probes: their hooks would run in the plain cycles that share this
            // model (--paired-probes and --attach-per-cycle measure them).
            monitor = attachPerCycle
                ? workload.Model.AttachGradientMonitor()
                : workload.Model.AttachGradientMonitor(o => o.CaptureLayerOutputs = false);
        }

        disposables.AddRange([workload, optimizer]);
        if (!attachPerCycle)
        {
            Attach();
            disposables.Add(monitor!);
        }

        var variants = new List<PairedRunner.Variant>
        {
            new("plain step", () => TrainingSteps.Plain(workload, optimizer)),
            new("step + clip_grad_norm_", () => TrainingSteps.ClipGradNorm(workload, optimizer)),
            attachPerCycle
                ? new("step + monitor", () => TrainingSteps.Monitored(workload, optimizer, monitor!), Attach, () => monitor!.Dispose())
                : new("step + monitor", () => TrainingSteps.Monitored(workload, optimizer, monitor!)),
        };
        if (diagnose)
        {
            var tiny = Workload.Create("tiny_mlp_2x8");
            GradientMonitor tinyMonitor = tiny.Model.AttachGradientMonitor(o => o.CaptureLayerOutputs = false);
            tiny.ForwardBackward().Dispose();
            disposables.AddRange([tiny, tinyMonitor]);
            variants.Add(new("plain step again (control)", () => TrainingSteps.Plain(workload, optimizer)));
            variants.Add(new("step + Step() on a tiny model", () => TrainingSteps.PlainWithForeignStep(workload, optimizer, tinyMonitor)));
        }

        // The parallel read runs only from TensorStatisticsCollector.ParallelElements elements per step, and only on the
        // cores libtorch's threads leave free: compare it with the same monitor reading on the calling thread, where it runs.
        long elements = workload.Model.parameters().Sum(p => p.numel());
        if ((diagnose || readControl) && TensorStatisticsCollector.ReadThreads(elements, get_num_threads(), Environment.ProcessorCount) > 1)
        {
            GradientMonitor serialMonitor = workload.Model.AttachGradientMonitor(o => o.CaptureLayerOutputs = false);
            disposables.Add(serialMonitor);
            variants.Add(new("step + monitor, one-thread read", () =>
            {
                TensorStatisticsCollector.ParallelReadDisabled = true;
                try
                {
                    return TrainingSteps.Monitored(workload, optimizer, serialMonitor);
                }
                finally
                {
                    TensorStatisticsCollector.ParallelReadDisabled = false;
                }
            }));
        }

        Console.Write($"{name}: ");
        PairedRunner.Cycles[] r = PairedRunner.Run(variants, warmupSteps, cycles, c => Console.Write(c % 10 == 9 ? $"{c + 1} " : "."), deadline);
        Console.WriteLine();
        disposables.Reverse();
        disposables.ForEach(d => d.Dispose());
        TensorStatisticsCollector.ParallelReadDisabled = false;

        List<double> ratio = PairedRunner.Paired(r[2].StepMs, r[0].StepMs, (a, b) => a / b);
        List<double> added = PairedRunner.Paired(r[2].StepMs, r[0].StepMs, (a, b) => a - b);
        List<double> clipAdded = PairedRunner.Paired(r[1].StepMs, r[0].StepMs, (a, b) => a - b);
        (double rLow, double rHigh) = PairedRunner.MedianConfidence95(ratio);
        (double aLow, double aHigh) = PairedRunner.MedianConfidence95(added);
        (double cLow, double cHigh) = PairedRunner.MedianConfidence95(clipAdded);
        // The (a)/(b) target, "added ≤ 1.1 × clip_grad_norm_ added", as one paired statistic per round: met where the
        // interval of its median lies below zero.
        List<double> excess = PairedRunner.Paired(added, clipAdded, (a, c) => a - 1.1 * c);
        (double eLow, double eHigh) = PairedRunner.MedianConfidence95(excess);
        double inside = PairedRunner.Median(r[2].InsideMs), addedMedian = PairedRunner.Median(added), clipMedian = PairedRunner.Median(clipAdded);
        string row = string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {PairedRunner.Median(r[0].StepMs):F2} | {PairedRunner.Median(r[2].StepMs):F2} | {PairedRunner.Median(ratio):F3} [{rLow:F3}, {rHigh:F3}] | {PairedRunner.Quantile(ratio, 0.25):F3}–{PairedRunner.Quantile(ratio, 0.75):F3} | {addedMedian:F2} [{aLow:F2}, {aHigh:F2}] | {inside:F2} | {addedMedian - inside:F2} | {clipMedian:F2} [{cLow:F2}, {cHigh:F2}] | {addedMedian / clipMedian:F2} | {PairedRunner.Median(excess):F2} [{eLow:F2}, {eHigh:F2}] |");
        var detail = new System.Text.StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{name} ({parameterTensors} parameter tensors; device path forced by: {(path.ForceDevice ? "the switch" : "not forced")}), {ratio.Count} rounds, finished {DateTime.UtcNow:HH:mm:ss} UTC, load average {LoadAverage()}, per variant (median per step; gen-0 GCs and thread-pool work items per step, mean):"));
        for (int i = 0; i < variants.Count; i++)
        {
            double diff = PairedRunner.Median(PairedRunner.Paired(r[i].StepMs, r[0].StepMs, (a, b) => a - b));
            double stepRatio = PairedRunner.Median(PairedRunner.Paired(r[i].StepMs, r[0].StepMs, (a, b) => a / b));
            detail.Append(string.Create(CultureInfo.InvariantCulture,
                $"\n  {variants[i].Name,-34} {PairedRunner.Median(r[i].StepMs),9:F2} ms  vs plain {diff,7:+0.00;-0.00;0.00} ms ({stepRatio:F3}×)  inside {PairedRunner.Median(r[i].InsideMs),6:F2} ms  CPU {PairedRunner.Median(r[i].CpuMs),8:F2} ms (vs plain {PairedRunner.Median(PairedRunner.Paired(r[i].CpuMs, r[0].CpuMs, (a, b) => a - b)),6:+0.00;-0.00;0.00})  gen0 {r[i].Gen0PerStep.Average():F3}  pool {r[i].PoolItemsPerStep.Average():F1}"));
        }

        return (row, detail.ToString());
    }

    /// <summary>The 1-minute load average (Linux), to say how busy the shared machine was.</summary>
    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    /// <summary>The median of a list (for the recovery benchmark, which keeps its own loop).</summary>
    internal static double Median(List<double> values) => PairedRunner.Median(values);

    /// <summary>The median of the paired differences <paramref name="values"/>[i] − <paramref name="baseline"/>[i].</summary>
    internal static double MedianDifference(List<double> values, List<double> baseline) =>
        PairedRunner.Median(PairedRunner.Paired(values, baseline, (a, b) => a - b));
}
