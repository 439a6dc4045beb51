using BenchmarkDotNet.Attributes;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The training step with the monitor (default options), as a ratio to the plain step, per workload. Every invocation
/// runs <see cref="StepsPerInvoke"/> steps, so it holds exactly one of the monitor's full-statistics steps (default
/// <see cref="GradientMonitorOptions.FullStatisticsInterval"/> = 20) and the reported time per step is its honest average.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(1)]
[IterationCount(9)]
public class TrainingStepBenchmarks
{
    /// <summary>One full-statistics cycle of the default cadence.</summary>
    public const int StepsPerInvoke = 20;

    private Workload _workload = null!;
    private optim.Optimizer _optimizer = null!;
    private GradientMonitor _monitor = null!;

    [ParamsSource(nameof(Workloads))]
    public string Workload { get; set; } = string.Empty;

    public static IEnumerable<string> Workloads => Benchmarks.Workload.All;

    [GlobalSetup]
    public void Setup()
    {
        _workload = Benchmarks.Workload.Create(Workload);
        _optimizer = optim.SGD(_workload.Model.parameters(), 1e-4);
        // Without probes: their hooks would also run in the plain benchmark, which shares this model.
        _monitor = _workload.Model.AttachGradientMonitor(o => o.CaptureLayerOutputs = false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _monitor.Dispose();
        _optimizer.Dispose();
        _workload.Dispose();
    }

    [Benchmark(Baseline = true, Description = "plain step", OperationsPerInvoke = StepsPerInvoke)]
    public void PlainStep()
    {
        for (int i = 0; i < StepsPerInvoke; i++)
        {
            TrainingSteps.Plain(_workload, _optimizer);
        }
    }

    [Benchmark(Description = "step + monitor", OperationsPerInvoke = StepsPerInvoke)]
    public void MonitoredStep()
    {
        for (int i = 0; i < StepsPerInvoke; i++)
        {
            TrainingSteps.Monitored(_workload, _optimizer, _monitor);
        }
    }
}
