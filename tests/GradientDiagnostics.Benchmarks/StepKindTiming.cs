using System.Diagnostics;
using System.Globalization;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// Where a monitor's <c>Step()</c> spends its time on one workload: <c>Step()</c> timed alone on every step of a training
/// run, split by step kind (cheap, full), with the default options and without probes, after warm-up. A diagnostic, not a
/// cost measurement: the whole-step comparisons (<c>--paired-probes</c>, <c>--paired-defaults</c>) are what the bounds
/// are judged on, because part of a monitor's cost lands outside its own timer.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --step-kinds [steps]
/// [--workloads a_mlp_50x512_batch512]</c>.</remarks>
internal static class StepKindTiming
{
    public static void Run(int steps, string[] workloads)
    {
        foreach (string name in workloads)
        {
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
}
