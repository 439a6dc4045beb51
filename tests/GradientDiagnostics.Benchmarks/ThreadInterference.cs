using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// Does managed work between two libtorch calls slow the second one down? One round times the same libtorch work (the
/// forward and backward of (a)) right after each of: nothing; a read of 13.1 M floats (a's gradient bytes) on the calling
/// thread; the same read split over the thread pool (<see cref="Parallel.For(int, int, Action{int})"/>, as the monitor's
/// parallel read does); one <c>Step()</c> of a monitor on a tiny model. Only the libtorch work is timed, with the process
/// CPU time beside it (spinning threads show there). Variants rotate round by round; medians of paired differences.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --thread-interference [rounds]</c>.</remarks>
internal static class ThreadInterference
{
    public static void Run(int rounds)
    {
        using var workload = Workload.Create("a_mlp_50x512");
        using var tiny = Workload.Create("tiny_mlp_2x8");
        using var tinyMonitor = tiny.Model.AttachGradientMonitor();
        tiny.ForwardBackward().Dispose();
        float[] buffer = new float[13_100_000];
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (i % 97) * 1e-3f;
        }

        const int Chunk = 1 << 18;
        int chunks = (buffer.Length + Chunk - 1) / Chunk;
        double sink = 0;
        (string Name, Action Before)[] variants =
        [
            ("nothing before", () => { }),
            ("one-thread read before", () => sink += TensorPrimitives.Sum(buffer)),
            ("thread-pool read before (Parallel.For, 1 MB chunks)", () =>
            {
                double[] partial = new double[chunks];
                Parallel.For(0, chunks, k => partial[k] = TensorPrimitives.Sum(buffer.AsSpan(k * Chunk, Math.Min(Chunk, buffer.Length - (k * Chunk)))));
                sink += partial.Sum();
            }),
            ("Step() on a tiny model before", () => sink += tinyMonitor.Step().GlobalNorm),
        ];
        var wall = variants.Select(_ => new List<double>()).ToArray();
        var cpu = variants.Select(_ => new List<double>()).ToArray();
        for (int round = -20; round < rounds; round++)
        {
            for (int k = 0; k < variants.Length; k++)
            {
                int i = (k + round + 20) % variants.Length;
                using var scope = NewDisposeScope();
                workload.Model.zero_grad();
                variants[i].Before();
                TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
                long start = Stopwatch.GetTimestamp();
                workload.ForwardBackward();
                if (round >= 0)
                {
                    wall[i].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    cpu[i].Add((Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds);
                }
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Forward + backward of a_mlp_50x512 after each variant, {rounds} rounds, libtorch threads {get_num_threads()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {PairedStepComparison.LoadAverage()}:"));
        Console.WriteLine("| before the libtorch work | wall (ms) | vs nothing, median [95% CI] (ms) | process CPU (ms) | vs nothing (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        for (int i = 0; i < variants.Length; i++)
        {
            List<double> diff = PairedRunner.Paired(wall[i], wall[0], (a, b) => a - b);
            (double low, double high) = PairedRunner.MedianConfidence95(diff);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {variants[i].Name} | {PairedRunner.Median(wall[i]):F2} | {PairedRunner.Median(diff):+0.00;-0.00;0.00} [{low:+0.00;-0.00;0.00}, {high:+0.00;-0.00;0.00}] | {PairedRunner.Median(cpu[i]):F2} | {PairedRunner.Median(PairedRunner.Paired(cpu[i], cpu[0], (a, b) => a - b)):+0.00;-0.00;0.00} |"));
        }

        GC.KeepAlive(sink);
    }
}
