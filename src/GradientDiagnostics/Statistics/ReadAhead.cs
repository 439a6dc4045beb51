using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace GradientDiagnostics;

/// <summary>
/// Software prefetch for the statistics passes: each iteration asks for the cache lines <see cref="Distance"/> bytes
/// ahead of the ones it reads. A gradient read right after backward comes mostly from memory, and the fused pass issues
/// about three times the instructions per byte of a plain sum, so the processor's own look-ahead covers less of the
/// latency; the hint brings the pass towards a plain sum's speed (measured in docs/performance.md, "The read after
/// backward"). A prefetch never faults, so lines past the end of a tensor are harmless.
/// </summary>
internal static class ReadAhead
{
    /// <summary>How far ahead, in bytes: 4 KB (2 and 8 KB measured the same within noise).</summary>
    internal const int Distance = 4096;

    /// <summary>Tensors below this size (64 KB) are read without the hint: small gradients come from cache in practice,
    /// where the hint only adds instructions (measured on 500 × Linear(64), docs/performance.md).</summary>
    internal const int MinimumBytes = 64 * 1024;

    /// <summary>Off: no hint (the control of the paired benchmark). On by default where SSE exists (every x64).</summary>
    internal static bool Enabled { get; set; } = Sse.IsSupported;

    /// <summary>Whether a pass over <paramref name="bytes"/> bytes takes the hint.</summary>
    public static bool For(long bytes) => Enabled && bytes >= MinimumBytes;

    /// <summary>Hints the lines covering <paramref name="bytes"/> bytes from <see cref="Distance"/> bytes after
    /// <paramref name="at"/> into the cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Lines<T>(ref T at, int bytes)
    {
        byte* ahead = (byte*)Unsafe.AsPointer(ref at) + Distance;
        for (int line = 0; line < bytes; line += 64)
        {
            Sse.Prefetch0(ahead + line);
        }
    }
}
