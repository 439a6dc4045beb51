namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// The device half of the statistics pass: reduces one tensor where it lives to a few zero-dimensional results that
/// <see cref="TensorStatisticsCollector"/> reads back with the step's host transfer (<see cref="HostTransfer.AddScalar"/>,
/// stacked there per dtype and device). A healthy step reads three numbers per tensor, ‖t‖₂, ‖t‖₁ and max|t|, with no
/// full-size allocation: three results, so with the <c>p.grad</c> wrapper four tensors per parameter tensor. Sums are
/// accumulated in the tensor's dtype for float32 and float64 (libtorch accumulates float32 in float32 or wider) and in
/// float32 for 16-bit tensors, which are first widened into a reused buffer (<see cref="ReductionScratch"/>).
/// <para>The kernels depend on the device. On an accelerator, <c>linalg.vector_norm</c> with ord 2, 1 and ∞: one pass
/// over the tensor each. On the CPU, libtorch's 1-norm and ∞-norm kernels are not vectorized for float32 (2.0–2.4× and
/// 9.5× its 2-norm, docs/performance.md), so ‖t‖₁ and max|t| come from |t| in the reused buffer (<c>copy_</c>,
/// <c>abs_</c>, then <c>sum</c> and <c>amax</c>), and ‖t‖₂ from the same buffer squared in place: the same three results
/// in 0.46–0.66× the time of the earlier read.
/// A 16-bit tensor also needs its normal-or-larger count every step; it comes in the same tensor as ‖t‖₁ (two rows of
/// the reused buffer reduced over dimension 1), so it too costs four tensors.</para>
/// <para>Whether anything is non-finite follows from the results themselves: a NaN makes all three NaN and an infinity
/// makes them +∞, so no <c>isfinite</c> kernel runs on a healthy step. A norm can also come back +∞ from a finite tensor
/// whose Σx² overflows float32 (‖t‖₂ above ~1.8e19); both cases get <see cref="QueueExact"/>, a second read of that
/// tensor on that step only.</para>
/// </summary>
internal static class DeviceReduction
{
    /// <summary>Fields per entry of <see cref="QueueNorms"/>: ‖t‖₂, ‖t‖₁ and max|t|, then (when counting zeros) the nonzero
    /// count. A 16-bit tensor's entry is ‖t‖₂, max|t|, ‖t‖₁, the count of elements normal or larger as stored (every step),
    /// then the nonzero count (when counting zeros).</summary>
    public const int NormFields = 3;

    /// <summary>Fields per entry of <see cref="QueueExact"/>: the NaN, ±∞ and nonzero counts, the count of elements normal
    /// or larger as stored (the nonzero count again for a tensor that is not 16-bit), then ‖t‖₂, ‖t‖₁ and ‖t‖∞ over the
    /// finite elements, in float64 (as in <see cref="NormFields"/>).</summary>
    public const int ExactFields = 4 + NormFields;

    /// <summary>Elements read at a time: a tensor is reduced in chunks of at most this many elements (16 MB of float32),
    /// through the reused buffer where it needs one, and the exact read through float64 copies of at most <see cref="ExactChunkElements"/> (8 MB), so the
    /// transient memory of a step stays bounded whatever the tensor's size.</summary>
    internal const long WideningChunkElements = 1L << 22, ExactChunkElements = 1L << 20;

    /// <summary>float16's smallest normal is 2⁻¹⁴, bfloat16's 2⁻¹²⁶: x·2¹⁴ (2¹²⁶) truncates to 0 exactly when x is ±0 or
    /// subnormal as stored (a scaling by a power of two is exact; overflow to ∞ still counts as nonzero).</summary>
    private const double Float16NormalScale = 16384.0, BFloat16NormalScale = 8.507059173023462e37;

    /// <summary>Makes CPU tensors take the accelerator kernels (ord 1 and ∞ norms) too, so that tests check on a CPU the
    /// numbers CUDA users get. Off: CPU tensors take the CPU kernels.</summary>
    internal static bool AcceleratorKernelsOnCpu { get; set; }

    /// <summary>Whether a tensor on <paramref name="device"/> is read with the accelerator kernels (no buffer for a
    /// float32 or float64 tensor) rather than the CPU ones (see the type's remarks).</summary>
    private static bool UsesAcceleratorKernels(DeviceType device) => device != DeviceType.CPU || AcceleratorKernelsOnCpu;

    /// <summary>The reused buffer the read of a <paramref name="dtype"/> tensor of <paramref name="elements"/> elements on
    /// <paramref name="device"/> goes through: float32 rows for the widened chunk and its indicator (16-bit), one chunk of
    /// the tensor's dtype for |t| (the CPU kernels), or none (float32 and float64 on an accelerator).</summary>
    internal static (torch.ScalarType Type, long Elements)? BufferFor(torch.ScalarType dtype, DeviceType device, long elements)
    {
        long chunk = Math.Min(elements, WideningChunkElements);
        return FormatOf(dtype) switch
        {
            NumericFormat.Float16 or NumericFormat.BFloat16 => (torch.ScalarType.Float32, 2 * chunk),
            NumericFormat.Float32 or NumericFormat.Float64 when !UsesAcceleratorKernels(device) => (dtype, chunk),
            _ => null,
        };
    }

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
    /// <see cref="NormFieldCount"/> scalars per chunk (one chunk unless the tensor exceeds
    /// <see cref="WideningChunkElements"/>). Returns the first scalar's index and the chunk count. Results land in the
    /// caller's dispose scope; widened and absolute values go through <paramref name="scratch"/>.</summary>
    public static (int First, int Chunks) QueueNorms(
        torch.Tensor tensor, NumericFormat sixteenBit, bool countZeros, HostTransfer transfer, ReductionScratch scratch)
    {
        torch.Tensor dense = tensor.is_sparse ? tensor.to_dense() : tensor;
        long elements = dense.numel();
        if (elements == 0)
        {
            return (-1, 0);
        }

        torch.Tensor flat = elements <= WideningChunkElements ? dense : dense.reshape(-1);
        int start = -1, chunks = 0;
        for (long offset = 0; offset < elements; offset += WideningChunkElements, chunks++)
        {
            torch.Tensor part = elements <= WideningChunkElements ? flat : flat.narrow(0, offset, Math.Min(WideningChunkElements, elements - offset));
            if (sixteenBit == NumericFormat.Unknown)
            {
                int first = QueueNormsOf(part, writable: false, transfer, scratch);
                start = start < 0 ? first : start;
                if (countZeros)
                {
                    transfer.AddScalar(torch.count_nonzero(part));
                }

                continue;
            }

            // 16-bit: never squared or summed in 16 bits (linalg.vector_norm keeps the input's dtype, so a float16 norm
            // overflows above 65504). Each chunk is widened into the first of two rows of the reused buffer; the second
            // row becomes 1 where |x| is normal or larger as stored (trunc(|x|·2¹⁴) clamped at 1; 2¹²⁶ for bfloat16), else
            // 0; one reduction over both rows then gives Σ|x| and that count in one tensor.
            (torch.Tensor rows, torch.Tensor wide, torch.Tensor normal) = scratch.Rows(part, torch.ScalarType.Float32);
            wide.copy_(part);
            int firstWide = transfer.AddScalar(torch.linalg.vector_norm(wide, 2));
            start = start < 0 ? firstWide : start;
            bool acceleratorKernels = UsesAcceleratorKernels(wide.device_type);
            if (acceleratorKernels)
            {
                transfer.AddScalar(torch.linalg.vector_norm(wide, double.PositiveInfinity));
                normal.copy_(wide).abs_();
            }
            else
            {
                transfer.AddScalar(wide.abs_().amax());
                normal.copy_(wide);
            }

            normal.mul_(sixteenBit == NumericFormat.Float16 ? Float16NormalScale : BFloat16NormalScale).trunc_().clamp_max_(1.0);
            transfer.AddVector(acceleratorKernels ? torch.linalg.vector_norm(rows, 1, [1]) : rows.sum(1));
            if (countZeros)
            {
                transfer.AddScalar(torch.count_nonzero(wide));
            }
        }

        return (start, chunks);
    }

    /// <summary>Whether <see cref="UnitNorms.Read"/> can read <paramref name="tensor"/>: dense float32 or float64 of at
    /// least one dimension, in one chunk. The others take <see cref="QueueNorms"/>.</summary>
    public static bool CanReadUnits(torch.Tensor tensor) =>
        !tensor.is_sparse && tensor.dim() >= 1 && tensor.dtype is torch.ScalarType.Float32 or torch.ScalarType.Float64
        && tensor.numel() is > 0 and <= WideningChunkElements;

    /// <summary>‖u‖₂ per unit of <paramref name="magnitudes"/> (|g| in the reused buffer, which this may overwrite) over
    /// <paramref name="dims"/>, kept as size 1: on an accelerator one 2-norm pass; on the CPU the buffer squared in place,
    /// summed, and the square root taken in place (the type's remarks). One tensor.</summary>
    internal static torch.Tensor UnitL2(torch.Tensor magnitudes, long[] dims) =>
        UsesAcceleratorKernels(magnitudes.device_type)
            ? torch.linalg.vector_norm(magnitudes, 2, dims, keepdim: true)
            : RootSumOfSquares(magnitudes, dims);

    /// <summary>√Σx² of <paramref name="magnitudes"/> (a buffer this class may overwrite) on the CPU: squared in place,
    /// summed over <paramref name="dims"/> (kept, as size 1) or over everything when null, and the square root taken in
    /// place. One tensor.</summary>
    private static torch.Tensor RootSumOfSquares(torch.Tensor magnitudes, long[]? dims)
    {
        torch.Tensor squares = magnitudes.mul_(magnitudes);
        return (dims is null ? squares.sum() : squares.sum(dims, keepdim: true)).sqrt_();
    }

    /// <summary>Queues a unit-wise entry of <paramref name="tensor"/> on <paramref name="transfer"/>: the gradient's norms per
    /// unit from <paramref name="norms"/> (<see cref="UnitNorms.Queue"/>: concatenated per group, no op of their own), then
    /// the nonzero count when counting zeros (<see cref="UnitFieldCount"/> scalars). Returns the first scalar's index.</summary>
    public static int QueueUnitEntry(torch.Tensor tensor, UnitNorms norms, bool countZeros, HostTransfer transfer)
    {
        int first = norms.Queue(transfer);
        if (countZeros)
        {
            transfer.AddScalar(torch.count_nonzero(tensor));
        }

        return first;
    }

    /// <summary>The fields one <see cref="QueueUnitEntry"/> entry has: three per unit, then the nonzero count when counting
    /// zeros.</summary>
    public static int UnitFieldCount(long units, bool countZeros) => checked((int)(3 * units)) + (countZeros ? 1 : 0);

    /// <summary>The dimensions a unit's norm is taken over: every one but the first, or the only one. Shared arrays per rank
    /// (read only): the reads and AGC ask for them per tensor every step.</summary>
    internal static long[] UnitDimensions(torch.Tensor tensor) =>
        tensor.dim() < UnitDimensionsByRank.Length ? UnitDimensionsByRank[tensor.dim()] : DimensionsAfterFirst(tensor.dim());

    private static readonly long[][] UnitDimensionsByRank = [.. Enumerable.Range(0, 9).Select(rank => DimensionsAfterFirst(rank))];

    private static long[] DimensionsAfterFirst(long rank) => rank <= 1 ? [0] : [.. Enumerable.Range(1, (int)rank - 1).Select(d => (long)d)];

    /// <summary>Queues the exact read of <paramref name="tensor"/> (a second read, on a step whose norms came back
    /// non-finite): one entry of <see cref="ExactFields"/> scalars per chunk of at most <see cref="ExactChunkElements"/>
    /// elements, each widened to float64, its NaN and ±∞ counted and then zeroed in place (a Scalar argument, no host
    /// operand), and its norms taken over the finite elements. Returns the first scalar's index and the chunk count.</summary>
    public static (int First, int Chunks) QueueExact(torch.Tensor tensor, NumericFormat sixteenBit, HostTransfer transfer, ReductionScratch scratch)
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
            QueueNormsOf(wide, writable: true, transfer, scratch);
        }

        return (start, chunks);
    }

    /// <summary>Queues ‖values‖₂, ‖values‖₁ and max|values| over the whole tensor (<see cref="Norms"/>).</summary>
    private static int QueueNormsOf(torch.Tensor values, bool writable, HostTransfer transfer, ReductionScratch scratch)
    {
        (torch.Tensor l2, torch.Tensor l1, torch.Tensor max) = Norms(values, writable, scratch);
        int first = transfer.AddScalar(l2);
        transfer.AddScalar(l1);
        transfer.AddScalar(max);
        return first;
    }

    /// <summary>‖values‖₂, ‖values‖₁ and max|values| (0-dimensional): three tensors, with the kernels of the type's remarks
    /// for the device. <paramref name="writable"/>: the values are a copy this class owns, which may be overwritten.</summary>
    private static (torch.Tensor L2, torch.Tensor L1, torch.Tensor Max) Norms(torch.Tensor values, bool writable, ReductionScratch scratch)
    {
        if (UsesAcceleratorKernels(values.device_type))
        {
            return (torch.linalg.vector_norm(values, 2), torch.linalg.vector_norm(values, 1),
                torch.linalg.vector_norm(values, double.PositiveInfinity));
        }

        // CPU: Σ|x| and max|x| from |x| in the buffer, then Σx² from the same buffer squared in place (sum + sqrt_ of the
        // result: no tensor more), cheaper on this CPU than a separate 2-norm pass over the gradient.
        torch.Tensor magnitudes = (writable ? values : scratch.Like(values, values.dtype).copy_(values)).abs_();
        torch.Tensor l1 = magnitudes.sum(), max = magnitudes.amax();
        return (RootSumOfSquares(magnitudes, dims: null), l1, max);
    }
}
