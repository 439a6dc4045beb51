namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// The activation sums of <see cref="ActivationSums"/> (and the per-unit active counts) for outputs that cannot be read in place (another
/// device, another dtype, non-contiguous): reduced with libtorch ops where the output lives and kept there until the
/// step's single host transfer. Not thread-safe: the owning <see cref="LayerProbe"/> calls it under its lock.
/// </summary>
internal sealed class DeviceActivationReduction(ActivationKind following, bool measuresActivity)
{
    private torch.Tensor? _sums;
    private long _elements;
    private long _rows;
    private int _offset = -1;

    /// <summary>Reduces one output, whose units lie along <paramref name="unitDimension"/>, and adds it to the step's sums.</summary>
    public void Add(torch.Tensor output, long units, long unitDimension)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        // Accumulated in float32 (16-bit outputs widened once), never through a float64 copy of the output: Σx by sum,
        // Σx² as ‖x‖₂² (linalg.vector_norm: no squared temporary), counts by count_nonzero (no int64 copy of a mask);
        // the one-element results are widened to float64 for the host.
        torch.Tensor x = output.detach();
        if (x.dtype is torch.ScalarType.Float16 or torch.ScalarType.BFloat16)
        {
            x = x.to_type(torch.ScalarType.Float32);
        }

        var parts = new List<torch.Tensor>(5)
        {
            x.sum().reshape(1),
            torch.linalg.vector_norm(x, 2).pow_(2).reshape(1),
            torch.count_nonzero(x).reshape(1).neg_().add_(x.numel()),
            Saturated(x).reshape(1),
        };
        if (measuresActivity)
        {
            // Active units: sign(x) clamped at 0 is 1 where x > 0, else 0 (NaN, for which x > 0 is false, is set to 0).
            torch.Tensor active = x.sign().clamp_min_(0.0).nan_to_num_(0.0, 0.0, 0.0);
            parts.Add(x.dim() == 0 ? active.reshape(1) : active.transpose(unitDimension, -1).reshape(-1, units).sum(0L));
        }

        torch.Tensor sums = torch.cat([.. parts.Select(p => p.to_type(torch.ScalarType.Float64))]);
        if (_sums is not null && _sums.numel() != sums.numel())
        {
            // A different unit count than earlier calls in this step (an unusual module); keep the latest call.
            Reset();
        }

        _sums = Accumulate(_sums, sums);
        _elements += x.numel();
        _rows += x.numel() / Math.Max(1, units);
    }

    /// <summary>Queues the step's sums on the transfer.</summary>
    public void Queue(HostTransfer transfer) => _offset = _sums is null ? -1 : transfer.Add(_sums.alias());

    /// <summary>Folds the step's sums, now on the host, into <paramref name="activations"/>.</summary>
    public void CompleteInto(ActivationAccumulator activations, ReadOnlySpan<double> host)
    {
        if (_offset >= 0)
        {
            // The layout Add builds: [Σz, Σz², zeros, saturated, active unit 0, …, active unit U−1].
            ReadOnlySpan<double> sums = host.Slice(_offset, (int)_sums!.numel());
            activations.Add(new ActivationSums(sums[0], sums[1], sums[2], sums[3], _elements, _rows), sums[4..]);
        }
    }

    public void Reset()
    {
        _sums?.Dispose();
        _sums = null;
        _elements = _rows = 0;
        _offset = -1;
    }

    /// <summary>total + value, kept outside every dispose scope (it must outlive the caller's scope until the step).</summary>
    internal static torch.Tensor Accumulate(torch.Tensor? total, torch.Tensor value)
    {
        torch.Tensor sum = total is null ? value.clone() : total + value;
        sum.DetachFromDisposeScope();
        total?.Dispose();
        return sum;
    }

    /// <summary>The count of saturated elements, as a one-element int64 tensor: counted by <c>count_nonzero</c> on boolean
    /// masks (a quarter of a float32 output each), not by summing a mask through an int64 or float64 copy.</summary>
    private torch.Tensor Saturated(torch.Tensor x) => following switch
    {
        ActivationKind.Tanh => torch.count_nonzero(x.gt(LayerObservations.TanhSaturationThreshold))
            .add_(torch.count_nonzero(x.lt(-LayerObservations.TanhSaturationThreshold))),
        ActivationKind.Sigmoid => torch.count_nonzero(x.lt(LayerObservations.SigmoidSaturationLow))
            .add_(torch.count_nonzero(x.gt(LayerObservations.SigmoidSaturationHigh))),
        _ => torch.zeros(1, torch.ScalarType.Int64, x.device),
    };
}
