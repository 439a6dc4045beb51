namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// One parameter's norms unit by unit, on its device, from the step's read (<see cref="Read"/>): ‖u‖₂, ‖u‖₁ and max|u| of
/// its gradient and ‖W_u‖₂ of the weight, each of shape [units, 1, …] so that it broadcasts over the gradient. ‖u‖₁ is
/// written in place, by <c>addmv_</c>, into a small tensor that lives as long as the parameter's reader; the other three are
/// the step's own reductions, held until the next read. So the read creates three tensors per gradient, as many as the
/// read of a gradient's own norms, and AGC none of its own. Scaled as the gradient is through the clipping stage of the
/// same step, so that adaptive clipping reads ‖W_u‖ and ‖G_u‖ here, and the clipped gradient's statistics follow from
/// these norms without another pass.
/// </summary>
internal sealed class UnitNorms : IDisposable
{
    private readonly torch.Tensor _l1, _l1Vector;
    private readonly torch.ScalarType _type;
    private readonly torch.Device _device;
    private readonly long _rank;
    private torch.Tensor? _l2, _max, _weight;

    private UnitNorms(torch.Tensor grad)
    {
        long[] unitShape = grad.dim() <= 1 ? [1] : [grad.shape[0], .. Enumerable.Repeat(1L, (int)grad.dim() - 1)];
        Units = unitShape[0];
        _l1 = torch.empty(unitShape, grad.dtype, grad.device).DetachFromDisposeScope();
        _l1Vector = _l1.view(Units).DetachFromDisposeScope();
        _type = grad.dtype;
        _device = grad.device;
        _rank = grad.dim();
    }

    /// <summary>‖u‖₂ per unit of the gradient, as of the last <see cref="Read"/>.</summary>
    public torch.Tensor L2 => _l2 ?? throw NotRead();

    /// <summary>max|u| per unit of the gradient, as of the last <see cref="Read"/>.</summary>
    private torch.Tensor Max => _max ?? throw NotRead();

    /// <summary>‖W_u‖₂ per unit of the weight, as of the last <see cref="Read"/>; <see cref="UnitWiseClipping"/> turns it
    /// into its factor in place.</summary>
    public torch.Tensor Weight => _weight ?? throw NotRead();

    /// <summary>How many units the gradient has.</summary>
    public long Units { get; }

    /// <summary><paramref name="known"/> when it fits <paramref name="grad"/> (dtype, device, rank, units), else a new one
    /// (and <paramref name="known"/> released).</summary>
    public static UnitNorms For(UnitNorms? known, torch.Tensor grad)
    {
        long rank = grad.dim(), units = rank <= 1 ? 1 : grad.shape[0];
        if (known is not null && known.Units == units && known._rank == rank && known._type == grad.dtype
            && known._device.type == grad.device_type && known._device.index == grad.device_index)
        {
            return known;
        }

        known?.Dispose();
        return new UnitNorms(grad);
    }

    /// <summary>Reads <paramref name="weight"/> and <paramref name="grad"/> (dense, float32 or float64, one chunk:
    /// <see cref="DeviceReduction.CanReadUnits"/>). |g| goes into the reused <paramref name="scratch"/>, seen there also as a
    /// matrix with a row per unit; Σ|g| per unit is that matrix times a vector of ones, written in place (<c>addmv_</c> with
    /// β = 0, so the old values are ignored). Then max|g| and ‖g‖₂ per unit (with the device's kernels:
    /// <see cref="DeviceReduction.UnitL2"/>) and the weight's 2-norm per unit: three new tensors, held outside every
    /// dispose scope until the next read.</summary>
    public void Read(torch.Tensor weight, torch.Tensor grad, ReductionScratch scratch)
    {
        using var noGrad = torch.no_grad();
        torch.Tensor magnitudes = scratch.Like(grad, grad.dtype).copy_(grad).abs_();
        torch.Tensor rows = scratch.RowsLike(grad, grad.dtype);
        _l1Vector.addmv_(rows, scratch.Ones(rows.shape[1], grad.dtype, grad.device), beta: 0);
        long[] dims = DeviceReduction.UnitDimensions(grad);
        Hold(ref _max, magnitudes.amax(dims, keepdim: true));
        Hold(ref _l2, DeviceReduction.UnitL2(magnitudes, dims));
        Hold(ref _weight, torch.linalg.vector_norm(weight, 2, dims, keepdim: true));
    }

    /// <summary>Scales the gradient's norms in place by <paramref name="factor"/> (one per unit, the shape of
    /// <see cref="L2"/>), as the gradient's units were: a unit scaled by c ≥ 0 has c times each norm.</summary>
    public void Scale(torch.Tensor factor)
    {
        L2.mul_(factor);
        _l1.mul_(factor);
        Max.mul_(factor);
    }

    /// <summary>Scales the gradient's norms in place by <paramref name="coefficient"/> (≥ 0), as the whole gradient was.</summary>
    public void Scale(Scalar coefficient)
    {
        L2.mul_(coefficient);
        _l1.mul_(coefficient);
        Max.mul_(coefficient);
    }

    /// <summary>Queues ‖u‖₂, ‖u‖₁ and max|u| (all units of each, in that order, in consecutive slots) on
    /// <paramref name="transfer"/>; returns the first index.</summary>
    public int Queue(HostTransfer transfer)
    {
        int first = transfer.AddVector(L2);
        transfer.AddVector(_l1);
        transfer.AddVector(Max);
        return first;
    }

    /// <summary>Releases the kept tensor and the step's reductions.</summary>
    public void Dispose()
    {
        foreach (torch.Tensor? t in (torch.Tensor?[])[_l1Vector, _l1, _l2, _max, _weight])
        {
            t?.Dispose();
        }
    }

    private static void Hold(ref torch.Tensor? field, torch.Tensor value)
    {
        field?.Dispose();
        field = value.DetachFromDisposeScope();
    }

    private static InvalidOperationException NotRead() => new("The unit norms have not been read.");
}
