using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Tensor = TorchSharp.torch.Tensor;
using Parameter = TorchSharp.Modules.Parameter;
using System.Runtime.InteropServices;
using GradientDiagnostics.Adapters;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The floor of clipping by global norm on (a) when it acts: every gradient must be read once (for the norm) and then
/// read and written once (the multiply). Times, interleaved round by round on the same gradients of (a): libtorch's
/// <c>clip_grad_norm_</c>, the monitor's <c>Step()</c>, <see cref="TensorPrimitives.Sum(ReadOnlySpan{float})"/> and
/// <see cref="TensorStatistics.Compute(ReadOnlySpan{float})"/> over the same 100 gradient spans on one thread, libtorch's
/// per-tensor norms, and libtorch's <c>mul_</c> of every gradient.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --read-floor [rounds]</c>.</remarks>
internal static class ReadFloor
{
    public static void Run(int rounds)
    {
        using var workload = Workload.Create("a_mlp_50x512");
        workload.ForwardBackward().Dispose();
        Parameter[] parameters = [.. workload.Model.parameters()];
        Tensor[] gradients = [.. parameters.Select(p => p.grad!)];
        using var monitor = workload.Model.AttachGradientMonitor();
        var times = new Dictionary<string, List<double>>();
        double sink = 0;

        void Time(string name, Action action)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            (times.TryGetValue(name, out List<double>? list) ? list : times[name] = []).Add(ms);
        }

        for (int round = 0; round < rounds; round++)
        {
            Time("clip_grad_norm_ (max norm 1e30: norms, then mul_ by 1)", () => sink += nn.utils.clip_grad_norm_(parameters, 1e30));
            Time("monitor Step() (default options)", () => sink += monitor.Step().GlobalNorm);
            Time("TensorPrimitives.Sum over the 100 spans, one thread", () =>
            {
                foreach (Tensor g in gradients)
                {
                    sink += TensorPrimitives.Sum(MemoryMarshal.Cast<byte, float>(g.bytes));
                }
            });
            Time("TensorStatistics.Compute over the 100 spans, one thread", () =>
            {
                foreach (Tensor g in gradients)
                {
                    sink += GradientDiagnostics.TensorStatistics.Compute(MemoryMarshal.Cast<byte, float>(g.bytes)).SumOfSquares;
                }
            });
            Time("libtorch mul_ of every gradient", () =>
            {
                foreach (Tensor g in gradients)
                {
                    g.mul_(1.0f);
                }
            });
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Read floor on a_mlp_50x512 (100 gradient tensors, 13.1 M floats), {rounds} interleaved rounds, medians:"));
        foreach ((string name, List<double> list) in times)
        {
            List<double> sorted = [.. list.Order()];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-60} {sorted[sorted.Count / 2],7:F3} ms"));
        }

        // Blocks whose max |g| is below 2^-50 are too tiny for plain float squares (they would lose precision to the
        // subnormal range): the kernel scales them by an exact power of two (before this, it summed them in double).
        double[] maxima = [.. gradients.Select(g => GradientDiagnostics.TensorStatistics.Compute(MemoryMarshal.Cast<byte, float>(g.bytes)).MaxFiniteMagnitude)];
        long tinyElements = gradients.Where((g, i) => maxima[i] < Math.Pow(2, -50)).Sum(g => g.numel());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  gradient tensors with max |g| < 2^-50 (tiny: read with power-of-two block scaling): {maxima.Count(m => m < Math.Pow(2, -50))} of {gradients.Length}, {tinyElements:N0} of {gradients.Sum(g => g.numel()):N0} elements"));
        foreach (Tensor g in gradients)
        {
            g.Dispose();
        }

        GC.KeepAlive(sink);
    }
}
