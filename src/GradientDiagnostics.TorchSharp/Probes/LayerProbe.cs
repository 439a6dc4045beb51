
namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// One probed layer's per-step accumulators, filled from its forward hook (the output's statistics) and from the
/// <see cref="OutputGradientProbe"/>'s backward (‖∂L/∂y‖²). Everything stays on the device until the step's single
/// host transfer; a layer called several times in a step (gradient accumulation, weight sharing, time steps) adds up.
/// </summary>
internal sealed class LayerProbe : IDisposable
{
    // Activation sums layout: [Σx, Σx², zeros, saturated, active unit 0, …, active unit U−1].
    private const int Fixed = 4;

    // SageMaker Debugger's SaturatedActivation rule: tanh input |x| > 9.4999; sigmoid input < −23 or > 16.99999.
    private const double TanhSaturation = 9.4999;
    private const double SigmoidSaturationLow = -23;
    private const double SigmoidSaturationHigh = 16.99999;

    private readonly Lock _gate = new();
    private readonly bool _unitsFirst;
    private readonly bool _measureActivity;
    private torch.Tensor? _outputGradientSquares;
    private torch.Tensor? _activationSums;
    private long _elements;
    private long _rows;
    private int _gradientOffset = -1;
    private int _activationOffset = -1;
    private bool _disposed;

    public LayerProbe(int index, ModuleLayer layer)
    {
        Index = index;
        Layer = layer;
        // Conv and BatchNorm outputs are [N, C, …]: units are channels. Everything else (Linear, Embedding, LayerNorm,
        // RNN outputs) has its features last.
        string type = layer.Module.GetType().Name;
        _unitsFirst = layer.Module is global::TorchSharp.Modules.Convolution || type.StartsWith("BatchNorm", StringComparison.Ordinal) || type.StartsWith("InstanceNorm", StringComparison.Ordinal);
        _measureActivity = ActivationModules.HasActiveUnits(layer.Descriptor.FollowingActivation);
    }

    public int Index { get; }

    public ModuleLayer Layer { get; }

    /// <summary>The number of forward calls captured since the last step.</summary>
    public int Captures { get; private set; }

    /// <summary>Set once the "not captured" warning was logged for this layer.</summary>
    public bool WarnedNotCaptured { get; set; }

    /// <summary>Whether the backward reduction failed (it must never throw into autograd); reported at the step.</summary>
    public Exception? BackwardFailure { get; private set; }

    /// <summary>Summarizes a forward output on its device. Called from the forward hook, with autograd enabled.</summary>
    public void AddOutput(torch.Tensor output)
    {
        if (_disposed)
        {
            return;
        }

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        torch.Tensor x = output.detach();
        long units = x.dim() == 0 ? 1 : x.shape[UnitDimension(x)];
        var parts = new List<torch.Tensor>(5)
        {
            x.sum(type: torch.ScalarType.Float64).reshape(1),
            x.square().sum(type: torch.ScalarType.Float64).reshape(1),
            x.eq(0).sum(type: torch.ScalarType.Float64).reshape(1),
            Saturated(x).reshape(1),
        };
        if (_measureActivity)
        {
            parts.Add(x.dim() == 0 ? x.gt(0).to_type(torch.ScalarType.Float64).reshape(1) : x.gt(0).transpose(UnitDimension(x), -1).reshape(-1, units).sum(0, type: torch.ScalarType.Float64));
        }

        torch.Tensor sums = torch.cat(parts);
        lock (_gate)
        {
            if (_activationSums is not null && _activationSums.numel() != sums.numel())
            {
                // A different unit count than earlier calls in this step (an unusual module); keep the latest call.
                ResetActivations();
            }

            _activationSums = Accumulate(_activationSums, sums);
            _elements += x.numel();
            _rows += x.numel() / Math.Max(1, units);
            Captures++;
        }
    }

    /// <summary>Adds ‖∂L/∂y‖² of one backward pass. Called from autograd's backward, possibly on another thread; keeps
    /// the result on the device (no host sync here).</summary>
    public void AddOutputGradient(torch.Tensor gradient)
    {
        // A graph built before the monitor was disposed may still run backward through this probe: keep nothing then.
        if (_disposed)
        {
            return;
        }

        try
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            torch.Tensor squares = gradient.detach().square().sum(type: torch.ScalarType.Float64);
            lock (_gate)
            {
                _outputGradientSquares = Accumulate(_outputGradientSquares, squares);
            }
        }
#pragma warning disable CA1031 // An exception here would abort the user's backward pass; it is reported at Step().
        catch (Exception ex)
#pragma warning restore CA1031
        {
            BackwardFailure ??= ex;
        }
    }

    /// <summary>Marks the "captured an output" state without activation statistics (an extra tuple element).</summary>
    public void MarkCaptured()
    {
        lock (_gate)
        {
            Captures = Math.Max(Captures, 1);
        }
    }

    /// <summary>Queues this step's device results on the transfer (in the caller's dispose scope).</summary>
    public void Queue(HostTransfer transfer)
    {
        lock (_gate)
        {
            _gradientOffset = _outputGradientSquares is null ? -1 : transfer.Add(_outputGradientSquares.alias());
            _activationOffset = _activationSums is null ? -1 : transfer.Add(_activationSums.alias());
        }
    }

    /// <summary>Reads this step's results from the host values and forgets the step (nothing is kept past it).</summary>
    public (double? OutputGradientNorm, ActivationStatistics? Activations) Complete(ReadOnlySpan<double> host)
    {
        double? norm = _gradientOffset < 0 ? null : Math.Sqrt(host[_gradientOffset]);
        ActivationStatistics? activations = _activationOffset < 0 ? null : Summarize(host[_activationOffset..]);
        Reset();
        return (norm, activations);
    }

    /// <summary>Drops the step's accumulators.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _outputGradientSquares?.Dispose();
            _outputGradientSquares = null;
            ResetActivations();
            Captures = 0;
            _gradientOffset = _activationOffset = -1;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        Reset();
    }

    private ActivationStatistics Summarize(ReadOnlySpan<double> sums)
    {
        double n = Math.Max(1, _elements);
        double mean = sums[0] / n;
        float[] active = [];
        if (_measureActivity)
        {
            int units = (int)(_activationSums!.numel() - Fixed);
            active = new float[units];
            for (int u = 0; u < units; u++)
            {
                active[u] = (float)(sums[Fixed + u] / Math.Max(1, _rows));
            }
        }

        return new ActivationStatistics
        {
            ElementCount = _elements,
            Mean = mean,
            Variance = Math.Max(0, (sums[1] / n) - (mean * mean)),
            ZeroFraction = sums[2] / n,
            SaturatedFraction = Layer.Descriptor.FollowingActivation is ActivationKind.Sigmoid or ActivationKind.Tanh ? sums[3] / n : null,
            UnitActiveFraction = active,
        };
    }

    private long UnitDimension(torch.Tensor x) => _unitsFirst && x.dim() >= 2 ? 1 : x.dim() - 1;

    private torch.Tensor Saturated(torch.Tensor x) => Layer.Descriptor.FollowingActivation switch
    {
        ActivationKind.Tanh => x.abs().gt(TanhSaturation).sum(type: torch.ScalarType.Float64),
        ActivationKind.Sigmoid => x.lt(SigmoidSaturationLow).logical_or(x.gt(SigmoidSaturationHigh)).sum(type: torch.ScalarType.Float64),
        _ => torch.zeros(1, torch.ScalarType.Float64, x.device),
    };

    /// <summary>total + value, kept outside every dispose scope (it must outlive the caller's scope until the step).</summary>
    private static torch.Tensor Accumulate(torch.Tensor? total, torch.Tensor value)
    {
        torch.Tensor sum = total is null ? value.clone() : total + value;
        sum.DetachFromDisposeScope();
        total?.Dispose();
        return sum;
    }

    private void ResetActivations()
    {
        _activationSums?.Dispose();
        _activationSums = null;
        _elements = _rows = 0;
    }
}
