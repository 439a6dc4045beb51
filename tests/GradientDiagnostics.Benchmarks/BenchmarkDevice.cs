using TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>The device the benchmark's models live on (<c>--device cpu|cuda</c>), and the synchronization a timer needs
/// there: CUDA kernels run asynchronously, so a timed call ends with <c>torch.cuda.synchronize()</c>.</summary>
internal static class BenchmarkDevice
{
    /// <summary>The device named on the command line; null for the CPU (the models stay where they are built).</summary>
    public static Device? Selected { get; private set; }

    /// <summary>What each timed call waits for before its timer stops: nothing on the CPU.</summary>
    public static Action? Sync { get; private set; }

    public static bool IsCuda => Selected?.type == DeviceType.CUDA;

    public static void Select(string? name)
    {
        if (name is null or "cpu")
        {
            return;
        }

        if (name != "cuda")
        {
            throw new ArgumentOutOfRangeException(nameof(name), name, "Devices: cpu, cuda.");
        }

        if (!cuda.is_available())
        {
            throw new InvalidOperationException(
                "--device cuda: libtorch reports no CUDA device. Reference TorchSharp-cuda-linux or TorchSharp-cuda-windows (see docs/performance.md).");
        }

        Selected = CUDA;
        Sync = () => cuda.synchronize();
    }
}
