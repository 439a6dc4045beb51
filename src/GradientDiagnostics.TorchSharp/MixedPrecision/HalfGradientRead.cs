using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Reads a dense CPU float16 tensor in place: blocks of its values are widened (exactly) with System.Numerics.Tensors into
/// one reused 16 K-element buffer and summed in double, so sums of squares of scaled gradients never form in float16, no
/// float64 tensor is made, and the norms keep the double-precision accuracy (1e-9 relative) the device-generic read had.
/// </summary>
/// <remarks>A stand-in for the 16-bit read of the statistics path (issue 21, item 8, owned there): mixed precision needs
/// a read of float16 gradients that costs about what the float32 read costs, which the device-generic reduction (one
/// float64 copy and about ten ops per tensor) does not.</remarks>
internal static class HalfGradientRead
{
    private const int BlockElements = 1 << 14;

    [ThreadStatic]
    private static double[]? t_block;

    /// <summary>Whether <see cref="Compute"/> can read the tensor.</summary>
    public static bool CanRead(torch.Tensor tensor) =>
        tensor.device_type == DeviceType.CPU && tensor.dtype == torch.ScalarType.Float16 && !tensor.is_sparse && tensor.is_contiguous() && tensor.numel() <= int.MaxValue;

    /// <summary>The statistics of the tensor's values as stored.</summary>
    public static TensorStatistics Compute(torch.Tensor tensor)
    {
        ReadOnlySpan<Half> values = MemoryMarshal.Cast<byte, Half>(tensor.bytes);
        double[] block = t_block ??= new double[BlockElements];
        TensorStatistics all = default;
        for (int offset = 0; offset < values.Length || offset == 0; offset += BlockElements)
        {
            int length = Math.Min(BlockElements, values.Length - offset);
            Span<double> target = block.AsSpan(0, length);
            TensorPrimitives.ConvertChecked(values.Slice(offset, length), target);
            all = TensorStatistics.Combine(all, TensorStatistics.Compute((ReadOnlySpan<double>)target));
        }

        return all;
    }
}
