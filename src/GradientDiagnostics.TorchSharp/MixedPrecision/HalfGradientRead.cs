using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Reads a dense CPU float16 tensor in place: blocks of its values are converted to float32 (exact: every float16 is a
/// float32) with System.Numerics.Tensors into one reused buffer and measured by the float32 kernel, so sums of squares
/// of scaled gradients accumulate in float32 blocks flushed to double, never in float16, and nothing is copied to float64.
/// </summary>
/// <remarks>A stand-in for the 16-bit read of the statistics path (issue 21, item 8, owned there): mixed precision needs
/// a read of float16 gradients that costs about what the float32 read costs, which the device-generic reduction (one
/// float64 copy and about ten ops per tensor) does not.</remarks>
internal static class HalfGradientRead
{
    private const int BlockElements = 1 << 14;

    [ThreadStatic]
    private static float[]? t_block;

    /// <summary>Whether <see cref="Compute"/> can read the tensor.</summary>
    public static bool CanRead(torch.Tensor tensor) =>
        tensor.device_type == DeviceType.CPU && tensor.dtype == torch.ScalarType.Float16 && !tensor.is_sparse && tensor.is_contiguous() && tensor.numel() <= int.MaxValue;

    /// <summary>The statistics of the tensor's values as stored.</summary>
    public static TensorStatistics Compute(torch.Tensor tensor)
    {
        ReadOnlySpan<Half> values = MemoryMarshal.Cast<byte, Half>(tensor.bytes);
        float[] block = t_block ??= new float[BlockElements];
        TensorStatistics all = default;
        for (int offset = 0; offset < values.Length || offset == 0; offset += BlockElements)
        {
            int length = Math.Min(BlockElements, values.Length - offset);
            Span<float> target = block.AsSpan(0, length);
            TensorPrimitives.ConvertToSingle(values.Slice(offset, length), target);
            all = TensorStatistics.Combine(all, TensorStatistics.Compute(target));
        }

        return all;
    }
}
