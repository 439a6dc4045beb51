using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using GradientDiagnostics.Adapters;
using GradientDiagnostics.TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// Full per-layer statistics (L2, L∞, mean |g|, NaN/Inf counts for every parameter) against TorchSharp's
/// <c>clip_grad_norm_</c> on the same gradients, and against one read pass over a flat buffer of the same size. The
/// monitor's <c>Step()</c> is measured whole (statistics, detectors, history; default options, so one call in 20 is a
/// full-statistics step that also reads the parameters). Three sizes of (a) show the scaling with parameter count, three
/// of (b) with tensor count; (b) minus b_flat_1x1442 (the same bytes in 2 tensors) is the fixed cost of 998 tensors.
/// The statistics kernel on the flat buffer, against the read pass, is the kernel's distance from the physical limit.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(11)]
public class StatisticsBenchmarks
{
    private Workload _workload = null!;
    private GradientMonitor _monitor = null!;
    private Parameter[] _parameters = null!;
    private float[] _flat = null!;

    [Params("a_mlp_50x128", "a_mlp_50x256", "a_mlp_50x512", "b_mlp_100x64", "b_mlp_250x64", "b_mlp_500x64", "b_flat_1x1442", "c_cnn", "d_lstm")]
    public string Workload { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _workload = Benchmarks.Workload.Create(Workload);
        _parameters = [.. _workload.Model.parameters()];
        _workload.ForwardBackward().Dispose();
        _monitor = _workload.Model.AttachGradientMonitor();
        _flat = new float[_parameters.Sum(p => p.numel())];
        for (int i = 0; i < _flat.Length; i++)
        {
            _flat[i] = (i % 7) - 3;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _monitor.Dispose();
        _workload.Dispose();
    }

    [Benchmark(Baseline = true, Description = "clip_grad_norm_")]
    public double ClipGradNorm() => nn.utils.clip_grad_norm_(_parameters, float.MaxValue);

    [Benchmark(Description = "monitor statistics")]
    public double MonitorStatistics() => _monitor.Step().GlobalNorm;

    [Benchmark(Description = "one read pass (sum)")]
    public float ReadPass() => TensorPrimitives.Sum(_flat);

    [Benchmark(Description = "statistics kernel (flat)")]
    public double StatisticsKernel() => TensorStatistics.Compute(_flat).SumOfSquares;
}
