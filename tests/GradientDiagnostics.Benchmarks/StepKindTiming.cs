using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// Where a monitor's <c>Step()</c> spends its time on one workload: <c>Step()</c> timed alone on every step of a training
/// run, split by step kind (cheap, full), with the default options and without probes, after warm-up. A diagnostic, not a
/// cost measurement: the whole-step comparisons (<c>--paired-probes</c>, <c>--paired-defaults</c>) are what the bounds
/// are judged on, because part of a monitor's cost lands outside its own timer. First, the same run without a monitor
/// times a bare one-thread <c>Sum</c> and the statistics kernel over the gradients right after backward.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --step-kinds [steps]
/// [--workloads a_mlp_50x512_batch512]</c>.</remarks>
internal static class StepKindTiming
{
    public static void Run(int steps, string[] workloads)
    {
        foreach (string name in workloads)
        {
            BareReads(name, steps);
            foreach ((string variant, Action<GradientMonitorOptions> configure) in new (string, Action<GradientMonitorOptions>)[]
                     {
                         ("defaults", _ => { }),
                         ("no probes", o => o.CaptureLayerOutputs = false),
                     })
            {
                using var workload = Workload.Create(name);
                using var optimizer = optim.SGD(workload.Model.parameters(), 1e-3);
                using var monitor = workload.Model.AttachGradientMonitor(configure);
                var times = new Dictionary<GradientStepKind, List<double>>();
                for (int step = 0; step < 60 + steps; step++)
                {
                    using var scope = NewDisposeScope();
                    optimizer.zero_grad();
                    Tensor loss = workload.ForwardBackward();
                    long start = Stopwatch.GetTimestamp();
                    GradientStepResult result = monitor.Step(loss);
                    double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    optimizer.step();
                    if (step >= 60)
                    {
                        (times.TryGetValue(result.Kind, out List<double>? list) ? list : times[result.Kind] = []).Add(ms);
                    }
                }

                foreach ((GradientStepKind kind, List<double> list) in times.OrderBy(t => t.Key))
                {
                    list.Sort();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name} {variant,-10} {kind,-6} steps {list.Count,4}  median {list[list.Count / 2],8:F2} ms  "
                        + $"P10 {list[list.Count / 10],8:F2}  P90 {list[list.Count * 9 / 10],8:F2}  mean {list.Average(),8:F2}"));
                }
            }
        }
    }

    /// <summary>The same training run with no monitor: right after each backward, one pass over every gradient on one
    /// thread, alternating a bare <c>TensorPrimitives.Sum</c> (the floor of any read) and the monitor's statistics kernel
    /// (<see cref="TensorStatistics.Compute(ReadOnlySpan{float})"/>), so both read gradients as <c>Step()</c> finds them.</summary>
    private static void BareReads(string name, int steps)
    {
        using var workload = Workload.Create(name);
        using var optimizer = optim.SGD(workload.Model.parameters(), 1e-3);
        var times = new[] { new List<double>(), new List<double>() };
        double sink = 0;
        for (int step = 0; step < 60 + steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            workload.ForwardBackward();
            Tensor[] gradients = [.. workload.Model.parameters().Select(p => p.grad!)];
            long start = Stopwatch.GetTimestamp();
            foreach (Tensor gradient in gradients)
            {
                ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(gradient.bytes);
                sink += step % 2 == 0 ? TensorPrimitives.Sum(values) : TensorStatistics.Compute(values).SumOfSquares;
            }

            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            optimizer.step();
            if (step >= 60)
            {
                times[step % 2].Add(ms);
            }
        }

        foreach ((string label, List<double> list) in new[] { ("bare Sum", times[0]), ("Compute", times[1]) })
        {
            list.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name} {label,-10} after backward, steps {list.Count,4}  median {list[list.Count / 2],8:F2} ms  "
                + $"P10 {list[list.Count / 10],8:F2}  P90 {list[list.Count * 9 / 10],8:F2}  mean {list.Average(),8:F2}"));
        }

        GC.KeepAlive(sink);
    }
}
