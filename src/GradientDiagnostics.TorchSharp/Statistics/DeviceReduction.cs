namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// The device half of the statistics pass: reduces one tensor where it lives to a few zero-dimensional results that
/// <see cref="TensorStatisticsCollector"/> reads back with the step's host transfer (<see cref="HostTransfer.AddScalar"/>,
/// stacked there per dtype and device). A healthy step reads ‖t‖₂ and ‖t‖₁ with <c>linalg.vector_norm</c> and min / max
/// with <c>aminmax</c>: three kernels that read the tensor once each and make no full-size temporary, accumulated in the
/// tensor's dtype for float32 and float64 (libtorch accumulates float32 in float32 or wider) and in float32 for 16-bit
/// tensors. (<c>aminmax</c> rather than the ∞-norm: on this machine's CPU <c>vector_norm(t, ∞)</c> took 4.5× a 2-norm and
/// <c>aminmax</c> 1.3×, docs/performance.md; on CUDA both are one kernel.) Whether anything is non-finite follows from the
/// results themselves: a NaN makes the norms and min / max NaN and an infinity makes the norms +∞, so no <c>isfinite</c>
/// kernel runs on a healthy step. A norm can also come back +∞ from a finite tensor whose Σx² overflows float32 (‖t‖₂
/// above ~1.8e19); both cases get <see cref="QueueExact"/>, a second read of that tensor on that step only.
/// </summary>
internal static class DeviceReduction
{
    /// <summary>Fields per entry of <see cref="QueueNorms"/>: ‖t‖₂, ‖t‖₁, min t and max t (max|t| is the larger of −min and
    /// max), then (when counting zeros) the nonzero count and, for 16-bit tensors (every step), the count of elements that
    /// are normal or larger as stored.</summary>
    public const int NormFields = 4;

    /// <summary>Fields per entry of <see cref="QueueExact"/>: the NaN, ±∞ and nonzero counts, the count of elements normal
    /// or larger as stored (the nonzero count again for a tensor that is not 16-bit), then ‖t‖₂, ‖t‖₁ and ‖t‖∞ over the
    /// finite elements, in float64 (as in <see cref="NormFields"/>).</summary>
    public const int ExactFields = 4 + NormFields;

    /// <summary>Elements widened at a time: a 16-bit tensor is reduced through float32 copies of at most this many elements
    /// (16 MB), and the exact read through float64 copies of at most <see cref="ExactChunkElements"/> (8 MB), so the
    /// transient memory of a step stays bounded whatever the tensor's size.</summary>
    internal const long WideningChunkElements = 1L << 22, ExactChunkElements = 1L << 20;

    /// <summary>float16's smallest normal is 2⁻¹⁴, bfloat16's 2⁻¹²⁶: x·2¹⁴ (2¹²⁶) truncates to 0 exactly when x is ±0 or
    /// subnormal as stored (a scaling by a power of two is exact; overflow to ∞ still counts as nonzero).</summary>
    private const double Float16NormalScale = 16384.0, BFloat16NormalScale = 8.507059173023462e37;

    /// <summary>The format of a torch dtype, as far as the diagnostics care.</summary>
    internal static NumericFormat FormatOf(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float32 => NumericFormat.Float32,
        torch.ScalarType.Float64 => NumericFormat.Float64,
        torch.ScalarType.Float16 => NumericFormat.Float16,
        torch.ScalarType.BFloat16 => NumericFormat.BFloat16,
        _ => NumericFormat.Unknown,
    };

    /// <summary>The fields one <see cref="QueueNorms"/> entry has.</summary>
    public static int NormFieldCount(bool countZeros, NumericFormat sixteenBit) =>
        NormFields + (countZeros ? 1 : 0) + (sixteenBit != NumericFormat.Unknown ? 1 : 0);

    /// <summary>Queues the healthy-step read of <paramref name="tensor"/> on <paramref name="transfer"/>: one entry of
    /// <see cref="NormFieldCount"/> scalars per chunk (one chunk unless a 16-bit tensor exceeds
    /// <see cref="WideningChunkElements"/>). Returns the first scalar's index and the chunk count. Results land in the
    /// caller's dispose scope; widened copies are disposed as soon as they are read.</summary>
    public static (int First, int Chunks) QueueNorms(torch.Tensor tensor, NumericFormat sixteenBit, bool countZeros, HostTransfer transfer)
    {
        torch.Tensor dense = tensor.is_sparse ? tensor.to_dense() : tensor;
        if (dense.numel() == 0)
        {
            return (-1, 0);
        }

        if (sixteenBit == NumericFormat.Unknown)
        {
            int first = QueueNormsOf(dense, transfer);
            if (countZeros)
            {
                transfer.AddScalar(torch.count_nonzero(dense));
            }

            return (first, 1);
        }

        // 16-bit: never squared or summed in 16 bits (linalg.vector_norm keeps the input's dtype, so a float16 norm
        // overflows above 65504); each chunk is widened to float32, read, and released before the next.
        long elements = dense.numel();
        torch.Tensor flat = elements <= WideningChunkElements ? dense : dense.reshape(-1);
        int start = -1, chunks = 0;
        for (long offset = 0; offset < elements || chunks == 0; offset += WideningChunkElements, chunks++)
        {
            torch.Tensor part = flat.numel() <= WideningChunkElements ? flat : flat.narrow(0, offset, Math.Min(WideningChunkElements, elements - offset));
            using torch.Tensor wide = part.to_type(torch.ScalarType.Float32);
            int first = QueueNormsOf(wide, transfer);
            start = start < 0 ? first : start;
            if (countZeros)
            {
                transfer.AddScalar(torch.count_nonzero(wide));
            }

            wide.mul_(sixteenBit == NumericFormat.Float16 ? Float16NormalScale : BFloat16NormalScale).trunc_();
            transfer.AddScalar(torch.count_nonzero(wide));
        }

        return (start, chunks);
    }

    /// <summary>Queues the exact read of <paramref name="tensor"/> (a second read, on a step whose norms came back
    /// non-finite): one entry of <see cref="ExactFields"/> scalars per chunk of at most <see cref="ExactChunkElements"/>
    /// elements, each widened to float64, its NaN and ±∞ counted and then zeroed in place (a Scalar argument, no host
    /// operand), and its norms taken over the finite elements. Returns the first scalar's index and the chunk count.</summary>
    public static (int First, int Chunks) QueueExact(torch.Tensor tensor, NumericFormat sixteenBit, HostTransfer transfer)
    {
        torch.Tensor dense = tensor.is_sparse ? tensor.to_dense() : tensor;
        long elements = dense.numel();
        torch.Tensor flat = dense.reshape(-1);
        double normalScale = sixteenBit == NumericFormat.BFloat16 ? BFloat16NormalScale : Float16NormalScale;
        int start = -1, chunks = 0;
        for (long offset = 0; offset < elements; offset += ExactChunkElements, chunks++)
        {
            torch.Tensor part = flat.narrow(0, offset, Math.Min(ExactChunkElements, elements - offset));
            // A copy even of a float64 tensor: its NaN and ±∞ are zeroed in place below, never the gradient's.
            using torch.Tensor wide = part.to_type(torch.ScalarType.Float64, copy: true);
            torch.Tensor nonzero = torch.count_nonzero(part);
            int first = transfer.AddScalar(torch.isnan(wide).sum());
            start = start < 0 ? first : start;
            transfer.AddScalar(torch.isinf(wide).sum());
            transfer.AddScalar(nonzero);
            if (sixteenBit == NumericFormat.Unknown)
            {
                transfer.AddScalar(nonzero);
            }
            else
            {
                using torch.Tensor scaled = wide.mul(normalScale).trunc_();
                transfer.AddScalar(torch.count_nonzero(scaled));
            }

            wide.nan_to_num_(0.0, 0.0, 0.0);
            QueueNormsOf(wide, transfer);
        }

        return (start, chunks);
    }

    private static int QueueNormsOf(torch.Tensor values, HostTransfer transfer)
    {
        int first = transfer.AddScalar(torch.linalg.vector_norm(values, 2));
        transfer.AddScalar(torch.linalg.vector_norm(values, 1));
        (torch.Tensor min, torch.Tensor max) = torch.aminmax(values);
        transfer.AddScalar(min);
        transfer.AddScalar(max);
        return first;
    }
}
