namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The device path's acceptance figures in one process and one run: <c>ByGlobalNorm</c> (acting and not acting) against
/// <c>clip_grad_norm_</c> on the managed float32 path, the forced device path and a float64 model (with AGC on the last
/// two), then the mixed-precision <c>Step()</c> against the GradScaler-style reference on the forced device path; each
/// table with the tensors created per parameter tensor and the extra memory of every call (<see cref="StepFootprint"/>).
/// The whole-step comparison on these paths is <c>--paired [cycles] --path device|float64 --workloads ...</c>.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --device-path [rounds]
/// [--workloads a,b] [--device cpu|cuda]</c>.</remarks>
internal static class DevicePathRun
{
    /// <summary>The models: 100 × Linear(512) + ReLU (200 parameter tensors, 105 MB of float32 gradients) and
    /// 10 × Linear(1024) + ReLU (20 tensors, 42 MB).</summary>
    public static readonly string[] Workloads = ["e_mlp_100x512", "f_mlp_10x1024"];

    public static void Run(int rounds, string[] workloads)
    {
        GradientPath[] paths = BenchmarkDevice.IsCuda ? [GradientPath.Managed] : [GradientPath.Managed, GradientPath.Device, GradientPath.Float64];
        foreach (GradientPath path in paths)
        {
            PairedClippingComparison.Run(rounds, path, workloads);
            Console.WriteLine();
        }

        PairedMixedPrecisionComparison.Run(rounds, BenchmarkDevice.IsCuda ? GradientPath.Managed : GradientPath.Device, workloads);
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Finished {DateTime.UtcNow:HH:mm} UTC, load average {PairedStepComparison.LoadAverage()}."));
    }
}
