using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// What one call creates: libtorch tensors (TorchSharp's <c>DisposeScopeManager.Statistics.TensorStatistics</c>, created in
/// and outside dispose scopes, after minus before) and extra resident memory (Linux: <c>echo 5 &gt; /proc/self/clear_refs</c>
/// resets the peak <c>VmHWM</c> of <c>/proc/self/status</c> to the current resident set; the peak after the call minus
/// <c>VmRSS</c> before it).
/// </summary>
/// <remarks>glibc keeps freed blocks for reuse and, after freeing a large mapped block, raises its mapping threshold
/// (up to 32 MB), so a tensor allocated where an earlier one was freed adds nothing to the resident set and the peak would
/// understate. While measuring, <c>mallopt</c> pins the thresholds at 128 KB, so every large tensor is mapped (counted)
/// and unmapped (released) on its own; after, they are pinned at glibc's dynamic maximum (32 MB mapping, 64 MB trim),
/// the steady state a long run reaches, so every timed call runs under the same allocator settings.</remarks>
internal static class StepFootprint
{
    private const int TrimThreshold = -1, MmapThreshold = -3;

    /// <summary>Tensors created and extra resident bytes of one call (bytes: -1 where /proc or CUDA makes it unmeasurable).</summary>
    public readonly record struct Sample(long Tensors, long ExtraBytes);

    /// <summary>Whether the extra-memory figure can be measured here (Linux /proc, tensors in host memory).</summary>
    public static bool MeasuresMemory => File.Exists("/proc/self/clear_refs") && !BenchmarkDevice.IsCuda;

    /// <summary>Pins the allocator at the steady state every timed call runs under (see remarks).</summary>
    public static void SteadyAllocator() => Pin(32 << 20, 64 << 20);

    /// <summary>Runs <paramref name="beforeEach"/> (unmeasured), then measures <paramref name="call"/>, <paramref name="times"/> times.</summary>
    public static Sample[] Measure(Action call, Action beforeEach, int times = 5)
    {
        var samples = new Sample[times];
        Pin(128 << 10, 128 << 10);
        try
        {
            for (int i = 0; i < times; i++)
            {
                beforeEach();
                samples[i] = Measure(call);
            }
        }
        finally
        {
            SteadyAllocator();
        }

        return samples;
    }

    /// <summary>Table cells: tensors created (median of the samples), the same per parameter tensor, and the largest extra
    /// memory as a fraction of the gradients' bytes (and in MB).</summary>
    public static string Cells(Sample[] samples, int parameterTensors, long gradientBytes)
    {
        long tensors = (long)PairedRunner.Median([.. samples.Select(s => (double)s.Tensors)]);
        long extra = samples.Max(s => s.ExtraBytes);
        string memory = extra < 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{(double)extra / gradientBytes:F3} ({extra / 1e6:F1} MB)");
        return string.Create(CultureInfo.InvariantCulture, $"{tensors} | {(double)tensors / parameterTensors:F2} | {memory}");
    }

    /// <summary>The bytes of every parameter's gradient.</summary>
    public static long GradientBytes(IEnumerable<global::TorchSharp.Modules.Parameter> parameters) =>
        parameters.Sum(p => p.grad is global::TorchSharp.torch.Tensor g ? g.numel() * g.element_size() : 0);

    private static Sample Measure(Action call)
    {
        long createdBefore = Created();
        long rssBefore = -1;
        if (MeasuresMemory)
        {
            rssBefore = StatusKilobytes("VmRSS");
            File.WriteAllText("/proc/self/clear_refs", "5");
        }

        call();
        BenchmarkDevice.Sync?.Invoke();
        long extra = MeasuresMemory ? Math.Max(0, StatusKilobytes("VmHWM") - rssBefore) * 1024 : -1;
        return new Sample(Created() - createdBefore, extra);
    }

    private static long Created()
    {
        var statistics = DisposeScopeManager.Statistics.TensorStatistics;
        return statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
    }

    private static long StatusKilobytes(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static void Pin(int mmapThreshold, int trimThreshold)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = MallOpt(MmapThreshold, mmapThreshold);
            _ = MallOpt(TrimThreshold, trimThreshold);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no mallopt): the figures then come from the allocator's own behaviour.
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);
}
