using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// One probed layer's per-step accumulators. Its forward hook (<see cref="Capture"/>) summarizes the output and asks
/// libtorch to retain the output's gradient (<c>retain_grad</c>), handing an alias downstream; ‖∂L/∂y‖² is read from
/// the retained gradient once backward has run: at the layer's next forward in the same step, or at the step. Backward
/// runs no managed code. A layer called several times in a step (gradient accumulation, weight sharing, time steps)
/// adds up. Dense float32 CPU tensors are read in place by the core's vectorized kernels (no libtorch op, no
/// allocation); tensors elsewhere are reduced on their device and stay there until the step's single host transfer.
/// </summary>
internal sealed class LayerProbe : IDisposable
{
    private readonly Lock _gate = new();
    private readonly bool _unitsFirst;
    private readonly ActivationKind _following;
    private readonly ActivationAccumulator _activations;
    private readonly List<torch.Tensor> _retained = [];
    private double _hostGradientSquares;
    private bool _hasHostGradient;
    private torch.Tensor? _deviceGradientSquares;
    private torch.Tensor? _deviceActivationSums;
    private long _deviceElements;
    private long _deviceRows;
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
        _following = layer.Descriptor.FollowingActivation;
        _activations = new ActivationAccumulator(_following, ActivationModules.HasActiveUnits(_following));
    }

    public int Index { get; }

    public ModuleLayer Layer { get; }

    /// <summary>The number of forward calls captured since the last step.</summary>
    public int Captures { get; private set; }

    /// <summary>Set once the "not captured" warning was logged for this layer.</summary>
    public bool WarnedNotCaptured { get; set; }

    /// <summary>Sends every tensor down the device path, so tests exercise it on CPU.</summary>
    public bool ForceDeviceGeneric { get; set; }

    /// <summary>The forward hook's work: summarizes the output (in place on the CPU, else on its device) and returns
    /// what the module hands downstream: an alias of the output, whose gradient libtorch retains on the output.</summary>
    public torch.Tensor Capture(torch.Tensor output)
    {
        if (_disposed)
        {
            return output;
        }

        (long units, long inner) = Layout(output);
        if (output.numel() == 0)
        {
            lock (_gate)
            {
                Captures++;
            }
        }
        else if (ReadsInPlace(output))
        {
            ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(output.bytes);
            lock (_gate)
            {
                _activations.Add(values, (int)units, (int)inner);
                Captures++;
            }
        }
        else
        {
            AddOutputOnDevice(output, units);
        }

        return RetainGradient(output);
    }

    /// <summary>A further output of a tuple-returning module (h_n, c_n): its gradient adds to the same norm.</summary>
    public torch.Tensor CaptureExtra(torch.Tensor output)
    {
        if (_disposed)
        {
            return output;
        }

        lock (_gate)
        {
            Captures = Math.Max(Captures, 1);
        }

        return RetainGradient(output);
    }

    /// <summary>Reads the retained gradients and queues this step's device results on the transfer (in the caller's
    /// dispose scope).</summary>
    public void Queue(HostTransfer transfer)
    {
        lock (_gate)
        {
            ReadRetainedGradients(all: true);
            _gradientOffset = _deviceGradientSquares is null ? -1 : transfer.Add(_deviceGradientSquares.alias());
            _activationOffset = _deviceActivationSums is null ? -1 : transfer.Add(_deviceActivationSums.alias());
        }
    }

    /// <summary>Reads this step's results (host sums, and device results from the host values) and forgets the step
    /// (nothing is kept past it).</summary>
    public (double? OutputGradientNorm, ActivationStatistics? Activations) Complete(ReadOnlySpan<double> host)
    {
        double? norm = null;
        if (_hasHostGradient || _gradientOffset >= 0)
        {
            norm = Math.Sqrt(_hostGradientSquares + (_gradientOffset < 0 ? 0 : host[_gradientOffset]));
        }

        if (_activationOffset >= 0)
        {
            _activations.AddSums(host.Slice(_activationOffset, (int)_deviceActivationSums!.numel()), _deviceElements, _deviceRows);
        }

        ActivationStatistics? activations = _activations.ToStatistics();
        Reset();
        return (norm, activations);
    }

    /// <summary>Drops the step's accumulators.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            ReleaseRetained();
            _deviceGradientSquares?.Dispose();
            _deviceGradientSquares = null;
            _hostGradientSquares = 0;
            _hasHostGradient = false;
            ResetDeviceActivations();
            _activations.Reset();
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

    /// <summary>Keeps the output (outside every dispose scope: <c>Sequential</c> disposes what it hands on, and a
    /// user's scope may end before the step) with its gradient retained, and returns an alias for downstream. Reads the
    /// gradients of earlier calls whose backward has run, so gradient accumulation keeps at most about one
    /// micro-batch of outputs.</summary>
    private torch.Tensor RetainGradient(torch.Tensor output)
    {
        if (!output.requires_grad || output.is_leaf)
        {
            return output;
        }

        output.retain_grad();
        torch.Tensor downstream = output.alias();
        output.DetachFromDisposeScope();
        lock (_gate)
        {
            ReadRetainedGradients(all: false);
            _retained.Add(output);
        }

        return downstream;
    }

    /// <summary>Adds ‖∂L/∂y‖² of the retained outputs whose gradient has arrived (<paramref name="all"/>: and releases
    /// every retained output, whether or not backward reached it). Called under the gate.</summary>
    private void ReadRetainedGradients(bool all)
    {
        for (int i = _retained.Count - 1; i >= 0; i--)
        {
            torch.Tensor output = _retained[i];
            torch.Tensor? gradient = output.IsInvalid ? null : output.grad;
            if (gradient is not null)
            {
                using (gradient)
                {
                    AddOutputGradient(gradient);
                }
            }

            if (gradient is not null || all)
            {
                output.Dispose();
                _retained.RemoveAt(i);
            }
        }
    }

    /// <summary>Adds one output gradient's ‖g‖²: in place on the CPU, else on its device (no host sync here).</summary>
    private void AddOutputGradient(torch.Tensor gradient)
    {
        if (ReadsInPlace(gradient))
        {
            _hostGradientSquares += TensorStatistics.Compute(MemoryMarshal.Cast<byte, float>(gradient.bytes)).SquaredL2Norm;
            _hasHostGradient = true;
            return;
        }

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        _deviceGradientSquares = Accumulate(_deviceGradientSquares, gradient.square().sum(type: torch.ScalarType.Float64));
    }

    private void ReleaseRetained()
    {
        foreach (torch.Tensor output in _retained)
        {
            output.Dispose();
        }

        _retained.Clear();
    }

    private bool ReadsInPlace(torch.Tensor tensor) =>
        !ForceDeviceGeneric && TensorStatisticsCollector.IsDenseCpuFloat32(tensor) && tensor.numel() <= int.MaxValue;

    /// <summary>The output's units and the contiguous elements of one unit per sample: [N, C, …] for channels
    /// (inner = the spatial size), else [rows, units] with the units last (inner = 1).</summary>
    private (long Units, long Inner) Layout(torch.Tensor x)
    {
        if (x.dim() == 0)
        {
            return (1, 1);
        }

        long[] shape = x.shape;
        long unitDimension = UnitDimension(x);
        long units = shape[unitDimension];
        return (units, unitDimension == shape.Length - 1 ? 1 : x.numel() / Math.Max(1, shape[0] * units));
    }

    /// <summary>The device path: the sums of <see cref="ActivationAccumulator.AddSums"/> reduced with libtorch ops, kept
    /// on the device until the step's transfer.</summary>
    private void AddOutputOnDevice(torch.Tensor output, long units)
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
        if (_activations.MeasuresActivity)
        {
            parts.Add(x.dim() == 0 ? x.gt(0).to_type(torch.ScalarType.Float64).reshape(1) : x.gt(0).transpose(UnitDimension(x), -1).reshape(-1, units).sum(0, type: torch.ScalarType.Float64));
        }

        torch.Tensor sums = torch.cat(parts);
        lock (_gate)
        {
            if (_deviceActivationSums is not null && _deviceActivationSums.numel() != sums.numel())
            {
                // A different unit count than earlier calls in this step (an unusual module); keep the latest call.
                ResetDeviceActivations();
            }

            _deviceActivationSums = Accumulate(_deviceActivationSums, sums);
            _deviceElements += x.numel();
            _deviceRows += x.numel() / Math.Max(1, units);
            Captures++;
        }
    }

    private long UnitDimension(torch.Tensor x) => _unitsFirst && x.dim() >= 2 ? 1 : x.dim() - 1;

    private torch.Tensor Saturated(torch.Tensor x) => _following switch
    {
        ActivationKind.Tanh => x.abs().gt(LayerObservations.TanhSaturationThreshold).sum(type: torch.ScalarType.Float64),
        ActivationKind.Sigmoid => x.lt(LayerObservations.SigmoidSaturationLow).logical_or(x.gt(LayerObservations.SigmoidSaturationHigh)).sum(type: torch.ScalarType.Float64),
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

    private void ResetDeviceActivations()
    {
        _deviceActivationSums?.Dispose();
        _deviceActivationSums = null;
        _deviceElements = _deviceRows = 0;
    }
}
