using System.Diagnostics;
using System.Globalization;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// The device path's acceptance figures in one command: <c>ByGlobalNorm</c> (acting and not acting) against
/// <c>clip_grad_norm_</c> on the managed float32 path, the forced device path, a float64 model on its default (span) read
/// and on the forced device path (with AGC on the last three), then the mixed-precision <c>Step()</c> against the GradScaler-style reference on the forced device path; each
/// table with the tensors created per parameter tensor and the extra memory of every call (<see cref="StepFootprint"/>).
/// Each (comparison, path, workload) runs in a child process of its own, so each memory figure is taken in a fresh heap.
/// The whole-step comparison on these paths is <c>--paired [cycles] --path device|float64 --workloads ...</c>.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --device-path [rounds]
/// [--workloads a,b] [--device cpu|cuda] [--torch-threads n]</c>.</remarks>
internal static class DevicePathRun
{
    /// <summary>The models: 100 × Linear(512) + ReLU (200 parameter tensors, 105 MB of float32 gradients) and
    /// 10 × Linear(1024) + ReLU (20 tensors, 42 MB).</summary>
    public static readonly string[] Workloads = ["e_mlp_100x512", "f_mlp_10x1024"];

    public static void Run(int rounds, string[] workloads, IReadOnlyList<string> passOn)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Device-path run, {rounds} rounds per comparison, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, "
            + $"load average {PairedStepComparison.LoadAverage()}; one process per row block."));
        string[] paths = BenchmarkDevice.IsCuda ? ["managed"] : ["managed", "device", "float64", "float64-device"];
        var runs = new List<string[]>();
        foreach (string path in paths)
        {
            runs.AddRange(workloads.Select(w => new[] { "--paired-clipping", $"{rounds}", "--path", path, "--workloads", w }));
        }

        string mixedPath = BenchmarkDevice.IsCuda ? "managed" : "device";
        runs.AddRange(workloads.Select(w => new[] { "--paired-mixed-precision", $"{rounds}", "--path", mixedPath, "--workloads", w }));
        foreach (string[] run in runs)
        {
            Console.WriteLine($"$ {string.Join(' ', run.Concat(passOn))}");
            Child([.. run, .. passOn]);
            Console.WriteLine();
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Finished {DateTime.UtcNow:HH:mm} UTC, load average {PairedStepComparison.LoadAverage()}."));
    }

    /// <summary>Runs this benchmark program again with <paramref name="arguments"/>, its output going to this one's.</summary>
    private static void Child(string[] arguments)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(DevicePathRun).Assembly.Location);
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {host}.");
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.WriteLine($"(exit code {process.ExitCode})");
        }
    }
}
