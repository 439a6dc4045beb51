using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Models;

internal static class Tensors
{
    /// <summary>Whether two CPU tensors hold the same bytes (bit-identical, as opposed to numerically equal).</summary>
    public static bool BitIdentical(Tensor a, Tensor b)
    {
        using Tensor x = a.detach().contiguous(), y = b.detach().contiguous();
        return x.dtype == y.dtype && x.shape.SequenceEqual(y.shape) && x.bytes.SequenceEqual(y.bytes);
    }
}
