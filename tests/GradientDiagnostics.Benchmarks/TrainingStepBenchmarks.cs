using BenchmarkDotNet.Attributes;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>The training step with the monitor (default options), as a ratio to the plain step, per workload.</summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
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
        _monitor = _workload.Model.AttachGradientMonitor();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _monitor.Dispose();
        _optimizer.Dispose();
        _workload.Dispose();
    }

    [Benchmark(Baseline = true, Description = "plain step")]
    public void PlainStep()
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        _workload.ForwardBackward();
        _optimizer.step();
    }

    [Benchmark(Description = "step + monitor")]
    public void MonitoredStep()
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        Tensor loss = _workload.ForwardBackward();
        if (!_monitor.Step(loss).SkipStep)
        {
            _optimizer.step();
        }
    }
}
