using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The libtorch kernels the device path can read a gradient with, on this machine's CPU, against
/// <c>linalg.vector_norm(g, 2)</c> (the baseline): why the CPU takes ‖g‖₁ and max|g| from |g| in a reused buffer
/// (<c>copy_</c> + <c>abs_</c>, then <c>sum</c> and <c>amax</c>) while accelerators take <c>vector_norm</c> with ord 1 and ∞
/// (DeviceReduction). One gradient-sized tensor per case: 2¹⁸ elements (a 512 × 512 weight) and 2²⁰ (1024 × 1024).
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --filter '*ReductionKernel*'</c>.</remarks>
[WarmupCount(3)]
[IterationCount(15)]
public class ReductionKernelBenchmarks
{
    private Tensor _gradient = null!;
    private Tensor _buffer = null!;

    [Params(1 << 18, 1 << 20)]
    public int Elements { get; set; }

    [Params(ScalarType.Float32, ScalarType.Float64)]
    public ScalarType DType { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(1);
        _gradient = randn(Elements, dtype: DType);
        _buffer = empty(Elements, dtype: DType);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _gradient.Dispose();
        _buffer.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Norm2()
    {
        using Tensor r = linalg.vector_norm(_gradient, 2);
    }

    [Benchmark]
    public void Norm1()
    {
        using Tensor r = linalg.vector_norm(_gradient, 1);
    }

    [Benchmark]
    public void NormInfinity()
    {
        using Tensor r = linalg.vector_norm(_gradient, double.PositiveInfinity);
    }

    [Benchmark]
    public void AminMax()
    {
        (Tensor min, Tensor max) = aminmax(_gradient);
        min.Dispose();
        max.Dispose();
    }

    /// <summary>|g| into the reused buffer, then Σ|g| and max|g| from it: the CPU's ‖g‖₁ and max|g|.</summary>
    [Benchmark]
    public void AbsIntoBufferSumAndAmax()
    {
        _buffer.copy_(_gradient).abs_();
        using Tensor sum = _buffer.sum();
        using Tensor max = _buffer.amax();
    }

    /// <summary>The device path's three results per gradient on the CPU as first built: the 2-norm, then |g| in the buffer.</summary>
    [Benchmark]
    public void CpuRead()
    {
        using Tensor norm = linalg.vector_norm(_gradient, 2);
        AbsIntoBufferSumAndAmax();
    }

    /// <summary>The device path's CPU read since its last change: |g| in the buffer, Σ|g| and max|g|, then Σg² from the
    /// buffer squared in place (no separate 2-norm pass over the gradient).</summary>
    [Benchmark]
    public void CpuReadSquaredInBuffer()
    {
        _buffer.copy_(_gradient).abs_();
        using Tensor sum = _buffer.sum();
        using Tensor max = _buffer.amax();
        using Tensor squares = _buffer.mul_(_buffer).sum();
    }

    /// <summary>The same three results with the accelerator kernels.</summary>
    [Benchmark]
    public void AcceleratorRead()
    {
        using Tensor norm = linalg.vector_norm(_gradient, 2);
        using Tensor sum = linalg.vector_norm(_gradient, 1);
        using Tensor max = linalg.vector_norm(_gradient, double.PositiveInfinity);
    }

    /// <summary>The read before this design: ‖g‖₂, ‖g‖₁ and aminmax.</summary>
    [Benchmark]
    public void PreviousRead()
    {
        using Tensor norm = linalg.vector_norm(_gradient, 2);
        using Tensor sum = linalg.vector_norm(_gradient, 1);
        AminMax();
    }

    [Benchmark]
    public void CountNonzero()
    {
        using Tensor r = count_nonzero(_gradient);
    }

    [Benchmark]
    public void MulInPlace() => _gradient.mul_(1.0);
}
