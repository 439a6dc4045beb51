using BenchmarkDotNet.Attributes;
using GradientDiagnostics.TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// <see cref="GradientClipping.ByGlobalNorm"/> (through the monitor's <c>Step()</c>, which also measures and runs the
/// detectors) against TorchSharp's <c>clip_grad_norm_</c> with the same max norm, on the same gradients. "acting": max
/// norm = half the gradients' norm, so both scale every gradient; "not acting": max norm far above it, where the
/// coefficient clamps to 1 (<c>clip_grad_norm_</c> still multiplies by 1; the monitor skips the multiply). The gradients
/// are restored before every invocation (outside the measurement), so each invocation clips the same gradients.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[WarmupCount(5)]
[IterationCount(61)]
public class ClippingBenchmarks
{
    private Workload _workload = null!;
    private Parameter[] _parameters = null!;
    private Tensor[] _saved = null!;
    private GradientMonitor _acting = null!;
    private GradientMonitor _notActing = null!;
    private double _maxNorm;

    [Params("a_mlp_50x512", "b_mlp_500x64")]
    public string Workload { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _workload = Benchmarks.Workload.Create(Workload);
        _parameters = [.. _workload.Model.parameters()];
        _workload.ForwardBackward().Dispose();
        _saved = [.. _parameters.Select(p => p.grad!.clone().DetachFromDisposeScope())];
        _maxNorm = nn.utils.clip_grad_norm_(_parameters, float.MaxValue) / 2;
        _acting = _workload.Model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(_maxNorm));
        _notActing = _workload.Model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(1e30));
    }

    [IterationSetup]
    public void RestoreGradients()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            _parameters[i].grad!.copy_(_saved[i]);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _acting.Dispose();
        _notActing.Dispose();
        foreach (Tensor t in _saved)
        {
            t.Dispose();
        }

        _workload.Dispose();
    }

    [Benchmark(Baseline = true, Description = "clip_grad_norm_ (acting)")]
    public double ClipGradNormActing() => nn.utils.clip_grad_norm_(_parameters, _maxNorm);

    [Benchmark(Description = "ByGlobalNorm step (acting)")]
    public double ByGlobalNormActing() => _acting.Step().GlobalNorm;

    [Benchmark(Description = "clip_grad_norm_ (not acting)")]
    public double ClipGradNormNotActing() => nn.utils.clip_grad_norm_(_parameters, 1e30);

    [Benchmark(Description = "ByGlobalNorm step (not acting)")]
    public double ByGlobalNormNotActing() => _notActing.Step().GlobalNorm;
}
