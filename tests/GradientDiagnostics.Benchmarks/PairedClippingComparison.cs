using System.Globalization;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// <c>ByGlobalNorm</c> (through the monitor's <c>Step()</c>) against libtorch's <c>clip_grad_norm_</c> on the same saved
/// gradients, acting (max norm = half the norm) and not acting (1e30), paired round by round: each round restores the
/// gradients before every call (outside the timing) and times the calls in a rotating order. Reports the median of the
/// per-round ratios with its 95 % confidence interval, the spread that a ratio of separate medians hides. On a
/// <see cref="GradientPath"/> other than the default it also times AGC (<c>GradientClipping.Adaptive()</c>) against the
/// acting <c>clip_grad_norm_</c>. Before the timing (while the heap is fresh), each call's footprint
/// (<see cref="StepFootprint"/>: tensors created, extra resident memory as a fraction of the gradients' bytes) is measured
/// on 5 calls.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-clipping [rounds]
/// [--path managed|device|float64] [--workloads a,b] [--device cpu|cuda]</c>.</remarks>
internal static class PairedClippingComparison
{
    /// <summary>The default workloads: (a) and (b) of the performance targets.</summary>
    public static readonly string[] DefaultWorkloads = ["a_mlp_50x512", "b_mlp_500x64"];

    public static void Run(int rounds, GradientPath? path = null, string[]? workloads = null)
    {
        path ??= GradientPath.Managed;
        StepFootprint.SteadyAllocator();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Paired clipping comparison, path {path.Name}, device {BenchmarkDevice.Selected?.ToString() ?? "cpu"}, {rounds} rounds, "
            + $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {PairedStepComparison.LoadAverage()}."));
        Console.WriteLine("| workload | path | clipping | clip_grad_norm_ (ms) | ours (ms) | paired ratio, median [95% CI] | ratios P25–P75 "
            + "| tensors created: clip_grad_norm_ | ours | ours per parameter tensor | ours: extra memory / gradient bytes, largest of 5 calls (MB); median |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (string name in workloads ?? DefaultWorkloads)
        {
            using var switchScope = path.Enter();
            using var workload = Workload.Create(name, path.ModelType, BenchmarkDevice.Selected);
            Parameter[] parameters = [.. workload.Model.parameters()];
            workload.ForwardBackward().Dispose();
            Tensor[] saved = [.. parameters.Select(p => p.grad!.clone().DetachFromDisposeScope())];
            long gradientBytes = StepFootprint.GradientBytes(parameters);
            double half = nn.utils.clip_grad_norm_(parameters, float.MaxValue) / 2;
            using var acting = workload.Model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(half));
            using var notActing = workload.Model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(1e30));
            using GradientMonitor? adaptive = path == GradientPath.Managed
                ? null
                : workload.Model.AttachGradientMonitor(o => o.Clipping = GradientClipping.Adaptive());

            var calls = new List<(string Name, Action Call)>
            {
                ("clip acting", () => nn.utils.clip_grad_norm_(parameters, half)),
                ("ByGlobalNorm acting", () => acting.Step()),
                ("clip not acting", () => nn.utils.clip_grad_norm_(parameters, 1e30)),
                ("ByGlobalNorm not acting", () => notActing.Step()),
            };
            if (adaptive is not null)
            {
                calls.Add(("AGC", () => adaptive.Step()));
            }

            StepFootprint.Sample[][] footprints = [.. calls.Select(c => StepFootprint.Measure(c.Call, () => Restore(parameters, saved)))];
            List<double>[] times = PairedRunner.TimeInterleaved([.. calls.Select(c => c.Call)], rounds, () => Restore(parameters, saved));
            var rows = new List<(int Clip, int Ours, string Label)> { (0, 1, "ByGlobalNorm acting"), (2, 3, "ByGlobalNorm not acting") };
            if (calls.Count > 4)
            {
                rows.Add((0, 4, "AGC (Adaptive()) vs clip acting"));
            }

            foreach ((int clip, int ours, string label) in rows)
            {
                List<double> ratio = PairedRunner.Paired(times[ours], times[clip], (a, b) => a / b);
                string clipTensors = StepFootprint.Cells(footprints[clip], parameters.Length, gradientBytes).Split(" | ")[0];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {path.Name} | {label} | {PairedRunner.Median(times[clip]):F2} | {PairedRunner.Median(times[ours]):F2} "
                    + $"| {PairedRunner.RatioWithInterval(times[ours], times[clip])} "
                    + $"| {PairedRunner.Quantile(ratio, 0.25):F2}–{PairedRunner.Quantile(ratio, 0.75):F2} "
                    + $"| {clipTensors} | {StepFootprint.Cells(footprints[ours], parameters.Length, gradientBytes)} |"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name}: {parameters.Length} parameter tensors, "
                + $"{gradientBytes / 1e6:F1} MB of {parameters[0].dtype} gradients; "
                + $"device path forced by: {(path.ForceDevice ? "the switch" : "not forced")}; "
                + $"allocator pinned: {StepFootprint.AllocatorPinned}; calibration: a 104.9 MB allocation measured {StepFootprint.Calibration():F1} MB; "
                + $"load average {PairedStepComparison.LoadAverage()}."));
            foreach (Tensor t in saved)
            {
                t.Dispose();
            }
        }
    }

    private static void Restore(Parameter[] parameters, Tensor[] saved)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i].grad!.copy_(saved[i]);
        }
    }
}
