using System.Diagnostics;
using System.Globalization;
using GradientDiagnostics.TorchSharp;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The mixed-precision <c>Step()</c> (one read of the float16 gradients, overflow check, statistics, detectors, the
/// ByGlobalNorm decision, and the one fused write <c>master.grad = g₁₆ × (c / S)</c>) against a GradScaler-style reference
/// written with TorchSharp ops on the same gradients: copy each gradient to fp32, unscale it (<c>mul_(1 / S)</c>), check
/// every one for non-finite values (one host sync), then <c>clip_grad_norm_</c> on the fp32 gradients. Both acting (max
/// norm = half the unscaled norm). Paired round by round: each round gives the model its saved float16 gradients before
/// every call (outside the timing) and times the two calls in alternating order. Before the timing (while the heap is
/// fresh), each call's footprint (<see cref="StepFootprint"/>) is measured on 5 calls; with <c>--path device</c> the
/// monitor reads on the device path.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-mixed-precision [rounds]
/// [--path managed|device] [--workloads a,b] [--device cpu|cuda]</c>.</remarks>
internal static class PairedMixedPrecisionComparison
{
    private const double Scale = 1024;

    public static void Run(int rounds, GradientPath? path = null, string[]? workloads = null)
    {
        path ??= GradientPath.Managed;
        StepFootprint.SteadyAllocator();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Paired mixed-precision comparison, path {path.Name}, device {BenchmarkDevice.Selected?.ToString() ?? "cpu"}, {rounds} rounds, "
            + $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {PairedStepComparison.LoadAverage()}."));
        Console.WriteLine("| workload | path | GradScaler-style reference (ms) | mixed-precision Step() (ms) | paired ratio, median [95% CI] "
            + "| ratios P25–P75 "
            + "| tensors created: reference | Step() | Step() per parameter tensor | Step(): extra memory / gradient bytes, largest of 5 calls (MB); median |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (string name in workloads ?? PairedClippingComparison.DefaultWorkloads)
        {
            using var switchScope = path.Enter();
            using var workload = Workload.Create(name, null, BenchmarkDevice.Selected);
            Tensor[] saved = SavedHalfGradients(workload);
            Parameter[] parameters = [.. workload.Model.parameters()];
            double unscaledNorm = Math.Sqrt(saved.Sum(g => g.to_type(ScalarType.Float64).square().sum().item<double>())) / Scale;
            double maxNorm = unscaledNorm / 2;
            using var monitor = workload.Model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(maxNorm));
            MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Static(Scale));
            Parameter[] referenceMasters = [.. parameters.Select(p => (Parameter)new Parameter(p.detach().to_type(ScalarType.Float32, copy: true)).DetachFromDisposeScope())];
            (string Name, Action Call)[] calls =
            [
                ("reference", () => Reference(parameters, referenceMasters, maxNorm)),
                ("Step()", () => monitor.Step()),
            ];
            StepFootprint.Sample[][] footprints = [.. calls.Select(c => StepFootprint.Measure(c.Call, () => Restore(parameters, saved)))];
            List<double>[] times = PairedRunner.TimeInterleaved([.. calls.Select(c => c.Call)], rounds, () => Restore(parameters, saved));

            long gradientBytes = saved.Sum(g => g.numel() * g.element_size());
            List<double> ratio = PairedRunner.Paired(times[1], times[0], (a, b) => a / b);
            string referenceTensors = StepFootprint.Cells(footprints[0], parameters.Length, gradientBytes).Split(" | ")[0];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} (float16) | {path.Name} | {PairedRunner.Median(times[0]):F2} | {PairedRunner.Median(times[1]):F2} "
                + $"| {PairedRunner.RatioWithInterval(times[1], times[0])} | {PairedRunner.Quantile(ratio, 0.25):F2}–{PairedRunner.Quantile(ratio, 0.75):F2} "
                + $"| {referenceTensors} | {StepFootprint.Cells(footprints[1], parameters.Length, gradientBytes)} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name}: {parameters.Length} parameter tensors, "
                + $"{gradientBytes / 1e6:F1} MB of float16 gradients; device path forced by: {(path.ForceDevice ? "the switch" : "not forced")}; "
                + $"allocator pinned: {StepFootprint.AllocatorPinned}; calibration: a 104.9 MB allocation measured {StepFootprint.Calibration():F1} MB; "
                + $"load average {PairedStepComparison.LoadAverage()}."));
            foreach (Tensor t in saved.Concat(referenceMasters))
            {
                t.Dispose();
            }

            _ = mp;
        }
    }

    /// <summary>What a user writes today with TorchSharp ops to do GradScaler's work on fp32 masters.</summary>
    private static void Reference(Parameter[] model, Parameter[] masters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var finite = new List<Tensor>(model.Length);
        for (int i = 0; i < model.Length; i++)
        {
            Tensor grad = model[i].grad!.to_type(ScalarType.Float32); // copy to fp32
            grad.mul_(1 / Scale); // unscale
            finite.Add(isfinite(grad).all());
            masters[i].grad = grad;
        }

        if (stack([.. finite]).all().item<bool>()) // the non-finite check: one host sync
        {
            nn.utils.clip_grad_norm_(masters, maxNorm);
        }
    }

    /// <summary>The fp32 gradients of one backward, times the scale, as float16; the model is then made float16.</summary>
    private static Tensor[] SavedHalfGradients(Workload workload)
    {
        workload.ForwardBackward().Dispose();
        Tensor[] saved = [.. workload.Model.parameters().Select(p => { using Tensor g = p.grad!; return g.mul(Scale).to_type(ScalarType.Float16).DetachFromDisposeScope(); })];
        workload.Model.to(ScalarType.Float16);
        return saved;
    }

    private static void Restore(Parameter[] parameters, Tensor[] saved)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i].grad = saved[i].clone().DetachFromDisposeScope();
        }
    }
}
