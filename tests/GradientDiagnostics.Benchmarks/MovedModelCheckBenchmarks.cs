using BenchmarkDotNet.Attributes;
using GradientDiagnostics.TorchSharp;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The per-step check that the model was not moved after attach (<c>model.to(...)</c>, <c>half()</c>): every monitored
/// parameter's wrapper, native tensor, dtype and device compared with the ones recorded at discovery. Workload (b) has
/// 1,000 parameter tensors, so the time per tensor is the mean / 1,000; the budget is 5 µs per tensor.
/// </summary>
[MemoryDiagnoser]
public class MovedModelCheckBenchmarks
{
    private Workload _workload = null!;
    private ParameterPlacement _placement = null!;

    [GlobalSetup]
    public void Setup()
    {
        _workload = Workload.Create("b_mlp_500x64");
        _placement = new ParameterPlacement(LayerDiscovery.Discover(_workload.Model));
    }

    [Benchmark]
    public string? FindChange() => _placement.FindChange();

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();
}
