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
        torch.Tensor x = output.detach();
        var parts = new List<torch.Tensor>(5)
        {
            x.sum(type: torch.ScalarType.Float64).reshape(1),
            x.square().sum(type: torch.ScalarType.Float64).reshape(1),
            x.eq(0).sum(type: torch.ScalarType.Float64).reshape(1),
            Saturated(x).reshape(1),
        };
        if (measuresActivity)
        {
            parts.Add(x.dim() == 0 ? x.gt(0).to_type(torch.ScalarType.Float64).reshape(1) : x.gt(0).transpose(unitDimension, -1).reshape(-1, units).sum(0, type: torch.ScalarType.Float64));
        }

        torch.Tensor sums = torch.cat(parts);
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

    private torch.Tensor Saturated(torch.Tensor x) => following switch
    {
        ActivationKind.Tanh => x.abs().gt(LayerObservations.TanhSaturationThreshold).sum(type: torch.ScalarType.Float64),
        ActivationKind.Sigmoid => x.lt(LayerObservations.SigmoidSaturationLow).logical_or(x.gt(LayerObservations.SigmoidSaturationHigh)).sum(type: torch.ScalarType.Float64),
        _ => torch.zeros(1, torch.ScalarType.Float64, x.device),
    };
}
