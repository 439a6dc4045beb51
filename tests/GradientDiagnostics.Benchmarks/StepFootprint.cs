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
/// and unmapped (released) on its own, and <c>malloc_trim(0)</c> before each measured call returns free heap blocks.
/// Callers measure before any timing, in a heap that has not yet held the calls' temporaries: after timed calls have left
/// large free blocks in the heap, reusing them inside a call (trimmed, so faulted again) while its short-lived
/// temporaries stay resident read well above the fresh figure on the device path (a development check on
/// f_mlp_10x1024). After, the thresholds are pinned at glibc's dynamic maximum (32 MB mapping, 64 MB trim), the steady
/// state a long run reaches, so every timed call runs under the same allocator settings. <see cref="Calibration"/>
/// checks the method on a known allocation.</remarks>
internal static class StepFootprint
{
    private const int TrimThreshold = -1, MmapThreshold = -3;

    /// <summary>Tensors created and extra resident bytes of one call (bytes: -1 where /proc or CUDA makes it unmeasurable).</summary>
    public readonly record struct Sample(long Tensors, long ExtraBytes);

    /// <summary>Whether <c>mallopt</c> accepted the thresholds (glibc); reported beside the figures.</summary>
    public static bool AllocatorPinned { get; private set; }

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
                Trim();
                samples[i] = Measure(call);
            }
        }
        finally
        {
            SteadyAllocator();
        }

        return samples;
    }

    /// <summary>The method's check: the extra memory it measures for a call that allocates and fills a 100 MB tensor (and
    /// four 1 MB ones) inside a dispose scope, in MB; it should read about 104.</summary>
    public static double Calibration()
    {
        Sample[] samples = Measure(
            () =>
            {
                using var scope = global::TorchSharp.torch.NewDisposeScope();
                _ = global::TorchSharp.torch.ones(25 << 20);
                for (int i = 0; i < 4; i++)
                {
                    _ = global::TorchSharp.torch.ones(1 << 18);
                }
            },
            () => { },
            times: 3);
        return samples.Min(s => s.ExtraBytes) / 1e6;
    }

    /// <summary>Table cells: tensors created (median of the samples), the same per parameter tensor, and the largest extra
    /// memory as a fraction of the gradients' bytes (and in MB), then the median one (the first call of a monitor is a
    /// full-statistics step, which also reads the parameters).</summary>
    public static string Cells(Sample[] samples, int parameterTensors, long gradientBytes)
    {
        long tensors = (long)PairedRunner.Median([.. samples.Select(s => (double)s.Tensors)]);
        long extra = samples.Max(s => s.ExtraBytes);
        double median = PairedRunner.Median([.. samples.Select(s => (double)s.ExtraBytes)]);
        string memory = extra < 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture,
            $"{(double)extra / gradientBytes:F3} ({extra / 1e6:F1} MB); median {median / gradientBytes:F3}");
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

    private static void Trim()
    {
        if (AllocatorPinned)
        {
            _ = MallocTrim(0);
        }
    }

    private static void Pin(int mmapThreshold, int trimThreshold)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            AllocatorPinned = MallOpt(MmapThreshold, mmapThreshold) == 1 && MallOpt(TrimThreshold, trimThreshold) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no mallopt): the figures then come from the allocator's own behaviour.
            AllocatorPinned = false;
        }
    }

    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);
}
