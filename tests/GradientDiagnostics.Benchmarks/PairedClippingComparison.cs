using System.Diagnostics;
using System.Globalization;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// <c>ByGlobalNorm</c> (through the monitor's <c>Step()</c>) against libtorch's <c>clip_grad_norm_</c> on the same saved
/// gradients of (a) and (b), acting (max norm = half the norm) and not acting (1e30), paired round by round: each round
/// restores the gradients before every call (outside the timing) and times the four calls in a rotating order. Reports
/// the median of the per-round ratios with its 95 % confidence interval, the spread that a ratio of separate medians hides.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-clipping [rounds]</c>.</remarks>
internal static class PairedClippingComparison
{
    public static void Run(int rounds)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Paired clipping comparison, {rounds} rounds, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {PairedStepComparison.LoadAverage()}."));
        Console.WriteLine("| workload | clipping | clip_grad_norm_ (ms) | ByGlobalNorm (ms) | paired ratio, median [95% CI] | ratios P25–P75 |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (string name in new[] { "a_mlp_50x512", "b_mlp_500x64" })
        {
            using var workload = Workload.Create(name);
            Parameter[] parameters = [.. workload.Model.parameters()];
            workload.ForwardBackward().Dispose();
            Tensor[] saved = [.. parameters.Select(p => p.grad!.clone().DetachFromDisposeScope())];
            double half = nn.utils.clip_grad_norm_(parameters, float.MaxValue) / 2;
            using var acting = workload.Model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(half));
            using var notActing = workload.Model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(1e30));
            (string Name, Action Call)[] calls =
            [
                ("clip acting", () => nn.utils.clip_grad_norm_(parameters, half)),
                ("ByGlobalNorm acting", () => acting.Step()),
                ("clip not acting", () => nn.utils.clip_grad_norm_(parameters, 1e30)),
                ("ByGlobalNorm not acting", () => notActing.Step()),
            ];
            List<double>[] times = PairedRunner.TimeInterleaved([.. calls.Select(c => c.Call)], rounds, () => Restore(parameters, saved));

            foreach ((int clip, int ours, string label) in new[] { (0, 1, "acting"), (2, 3, "not acting") })
            {
                List<double> ratio = PairedRunner.Paired(times[ours], times[clip], (a, b) => a / b);
                (double low, double high) = PairedRunner.MedianConfidence95(ratio);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {label} | {PairedRunner.Median(times[clip]):F2} | {PairedRunner.Median(times[ours]):F2} | {PairedRunner.Median(ratio):F2} [{low:F2}, {high:F2}] | {PairedRunner.Quantile(ratio, 0.25):F2}–{PairedRunner.Quantile(ratio, 0.75):F2} |"));
            }

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
