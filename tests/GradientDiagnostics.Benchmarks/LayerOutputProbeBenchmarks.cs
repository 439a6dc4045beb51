using BenchmarkDotNet.Attributes;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// <see cref="GradientMonitorOptions.CaptureLayerOutputs"/> on every layer of (a): its cost on top of default monitoring,
/// with the default cadence (probes armed on one step in 20), and the probes' own cost on a full step, as the difference
/// between full steps with and without probes (FullStatisticsInterval = 1 in both: every step reads parameters too).
/// Each invocation runs 20 steps, one full default cycle. More iterations than the other step classes: the differences
/// measured here are a few per cent of the step.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(25)]
public class LayerOutputProbeBenchmarks
{
    private const int Steps = TrainingStepBenchmarks.StepsPerInvoke;

    private Workload _workload = null!;
    private optim.Optimizer _optimizer = null!;
    private GradientMonitor _default = null!;
    private GradientMonitor _probes = null!;
    private GradientMonitor _fullEveryStep = null!;
    private GradientMonitor _probesEveryStep = null!;

    [Params("a_mlp_50x512")]
    public string Workload { get; set; } = string.Empty;

    [GlobalSetup(Target = nameof(PlainStep))]
    public void SetupPlain() => Create();

    [GlobalSetup(Target = nameof(MonitoredStep))]
    public void SetupMonitored()
    {
        Create();
        _default = _workload.Model.AttachGradientMonitor(o => o.CaptureLayerOutputs = false);
    }

    [GlobalSetup(Target = nameof(ProbedStep))]
    public void SetupProbed()
    {
        Create();
        _probes = _workload.Model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
    }

    [GlobalSetup(Target = nameof(FullEveryStep))]
    public void SetupFullEveryStep()
    {
        Create();
        _fullEveryStep = _workload.Model.AttachGradientMonitor(o => o.FullStatisticsInterval = 1);
    }

    [GlobalSetup(Target = nameof(ProbedEveryStep))]
    public void SetupProbedEveryStep()
    {
        Create();
        _probesEveryStep = _workload.Model.AttachGradientMonitor(o =>
        {
            o.CaptureLayerOutputs = true;
            o.FullStatisticsInterval = 1;
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // One monitor per benchmark method: hooks of another method's monitor would otherwise run in this one's forward.
        _default?.Dispose();
        _probes?.Dispose();
        _fullEveryStep?.Dispose();
        _probesEveryStep?.Dispose();
        _optimizer.Dispose();
        _workload.Dispose();
    }

    [Benchmark(Baseline = true, Description = "plain step", OperationsPerInvoke = Steps)]
    public void PlainStep()
    {
        for (int i = 0; i < Steps; i++)
        {
            TrainingSteps.Plain(_workload, _optimizer);
        }
    }

    [Benchmark(Description = "step + monitor", OperationsPerInvoke = Steps)]
    public void MonitoredStep()
    {
        for (int i = 0; i < Steps; i++)
        {
            TrainingSteps.Monitored(_workload, _optimizer, _default);
        }
    }

    [Benchmark(Description = "step + monitor + CaptureLayerOutputs", OperationsPerInvoke = Steps)]
    public void ProbedStep()
    {
        for (int i = 0; i < Steps; i++)
        {
            TrainingSteps.Monitored(_workload, _optimizer, _probes);
        }
    }

    [Benchmark(Description = "step + monitor, full every step", OperationsPerInvoke = Steps)]
    public void FullEveryStep()
    {
        for (int i = 0; i < Steps; i++)
        {
            TrainingSteps.Monitored(_workload, _optimizer, _fullEveryStep);
        }
    }

    [Benchmark(Description = "step + monitor + CaptureLayerOutputs, full every step", OperationsPerInvoke = Steps)]
    public void ProbedEveryStep()
    {
        for (int i = 0; i < Steps; i++)
        {
            TrainingSteps.Monitored(_workload, _optimizer, _probesEveryStep);
        }
    }

    private void Create()
    {
        _workload = Benchmarks.Workload.Create(Workload);
        _optimizer = optim.SGD(_workload.Model.parameters(), 1e-4);
    }
}
