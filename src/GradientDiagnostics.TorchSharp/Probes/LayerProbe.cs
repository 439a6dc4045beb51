using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// One probed layer's per-step accumulators. Its forward hook (<see cref="Capture"/>) summarizes the output and hands
/// downstream an alias whose gradient libtorch retains (<see cref="RetainedOutputGradients"/>). A layer called several
/// times in a step (gradient accumulation, weight sharing, time steps) adds up. Dense float32 CPU outputs are summarized
/// in place by the core's vectorized kernels (<see cref="ActivationAccumulator"/>: no libtorch op, no allocation); outputs
/// elsewhere by <see cref="DeviceActivationReduction"/>, on their device until the step's single host transfer.
/// </summary>
internal sealed class LayerProbe : IDisposable
{
    private readonly Lock _gate = new();
    private readonly bool _unitsFirst;
    private readonly ActivationAccumulator _activations;
    private readonly DeviceActivationReduction _deviceActivations;
    private readonly RetainedOutputGradients _gradients = new();
    private bool _disposed;

    public LayerProbe(int index, ModuleLayer layer)
    {
        Index = index;
        Layer = layer;
        // Conv and BatchNorm outputs are [N, C, …]: units are channels. Everything else (Linear, Embedding, LayerNorm,
        // RNN outputs, attention) has its features last.
        string type = layer.Module.GetType().Name;
        _unitsFirst = layer.Module is global::TorchSharp.Modules.Convolution || type.StartsWith("BatchNorm", StringComparison.Ordinal)
            || type.StartsWith("InstanceNorm", StringComparison.Ordinal);
        ActivationKind following = layer.Descriptor.FollowingActivation;
        bool activity = ActivationModules.HasActiveUnits(following);
        _activations = new ActivationAccumulator(following, activity);
        _deviceActivations = new DeviceActivationReduction(following, activity);
    }

    public int Index { get; }

    public ModuleLayer Layer { get; }

    /// <summary>The number of forward calls captured since the last step.</summary>
    public int Captures { get; private set; }

    /// <summary>Set once the "not captured" warning was logged for this layer.</summary>
    public bool WarnedNotCaptured { get; set; }

    /// <summary>The forward hook's work: summarizes the output and returns what the module hands downstream.</summary>
    public torch.Tensor Capture(torch.Tensor output)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return output;
            }

            if (output.numel() > 0)
            {
                (long units, long inner, long unitDimension) = Layout(output);
                if (ReadsInPlace(output))
                {
                    _activations.Add(MemoryMarshal.Cast<byte, float>(output.bytes), (int)units, (int)inner);
                }
                else
                {
                    _deviceActivations.Add(output, units, unitDimension);
                }
            }

            Captures++;
            return _gradients.Retain(output);
        }
    }

    /// <summary>A further output of a tuple-returning module (h_n, c_n): its gradient adds to the same norm.</summary>
    public torch.Tensor CaptureExtra(torch.Tensor output)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return output;
            }

            Captures = Math.Max(Captures, 1);
            return _gradients.Retain(output);
        }
    }

    /// <summary>Reads the retained gradients and queues this step's device results on the transfer (in the caller's
    /// dispose scope).</summary>
    public void Queue(HostTransfer transfer)
    {
        lock (_gate)
        {
            _gradients.Queue(transfer);
            _deviceActivations.Queue(transfer);
        }
    }

    /// <summary>Reads this step's results (host sums, and device results from the host values) and forgets the step
    /// (nothing is kept past it).</summary>
    public (double? OutputGradientNorm, ActivationStatistics? Activations) Complete(ReadOnlySpan<double> host)
    {
        double? norm;
        ActivationStatistics? activations;
        lock (_gate)
        {
            norm = _gradients.Norm(host);
            _deviceActivations.CompleteInto(_activations, host);
            activations = _activations.ToStatistics();
        }

        Reset();
        return (norm, activations);
    }

    /// <summary>Drops the step's accumulators.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _gradients.Reset();
            _deviceActivations.Reset();
            _activations.Reset();
            Captures = 0;
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

    /// <summary>Whether a tensor is read in place through a float span rather than reduced by libtorch ops.</summary>
    internal static bool ReadsInPlace(torch.Tensor tensor) =>
        !DevicePath.ForcedOnCpu && TensorStatisticsCollector.IsDenseCpuFloat32(tensor) && tensor.numel() <= int.MaxValue;

    /// <summary>The output's units, the contiguous elements of one unit per sample, and the units' dimension: [N, C, …] for
    /// channels (inner = the spatial size), else [rows, units] with the units last (inner = 1).</summary>
    private (long Units, long Inner, long UnitDimension) Layout(torch.Tensor x)
    {
        if (x.dim() == 0)
        {
            return (1, 1, 0);
        }

        long[] shape = x.shape;
        long unitDimension = _unitsFirst && shape.Length >= 2 ? 1 : shape.Length - 1;
        long units = shape[unitDimension];
        return (units, unitDimension == shape.Length - 1 ? 1 : x.numel() / Math.Max(1, shape[0] * units), unitDimension);
    }
}
