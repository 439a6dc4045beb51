using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Measures the layers' parameter gradients (∂L/∂θ) where they live, every step. CPU float32 gradients are read in place;
/// the others are reduced on their device and read back with the step's single host transfer.
/// </summary>
internal sealed class GradientStatisticsReader(ModuleLayer[] layers) : IDisposable
{
    private readonly TensorStatisticsCollector _collector = new(layers.Length);
    private readonly torch.Tensor?[][] _held = [.. layers.Select(l => new torch.Tensor?[l.Parameters.Length])];
    private readonly UnitNorms?[][] _units = [.. layers.Select(l => new UnitNorms?[l.Parameters.Length])];
    private readonly bool[][] _unitsRead = [.. layers.Select(l => new bool[l.Parameters.Length])];
    private bool _holding;

    /// <summary>Whether reads that hold the gradients read the device path's gradients unit by unit, with their weights
    /// (<see cref="UnitNorms.Read"/>), and keep the unit norms for the clipping stage of the same step
    /// (<see cref="Units"/>). Set once adaptive clipping has run: the read then costs as many tensors, AGC needs no pass
    /// of its own for ‖W_u‖ and ‖G_u‖, and the clipped statistics need no second read (<see cref="Requeue"/>).</summary>
    public bool ReadsUnitNorms { get; set; }

    /// <summary>How many threads the last step's CPU read used (see <see cref="TensorStatisticsCollector.ReadThreads"/>).</summary>
    internal int LastReadThreads => _collector.LastReadThreads;

    /// <summary>The gradient statistics per layer, complete after <see cref="Complete"/>.</summary>
    public ReadOnlySpan<TensorStatistics> Statistics => _collector.Statistics;

    /// <summary>Per layer, its 16-bit gradients' statistics as stored (zero-or-subnormal count, max |g|), read in the same
    /// pass; null for a layer without 16-bit gradients.</summary>
    public ReadOnlySpan<SixteenBitStatistics?> SixteenBit => _collector.SixteenBit;

    /// <summary>Per layer, the format its gradients (and so its parameters) are stored in.</summary>
    public ReadOnlySpan<NumericFormat> Formats => _collector.Formats;

    /// <summary>Whether every gradient read at this step is finite; valid after <see cref="Complete"/>.</summary>
    public bool AllFinite
    {
        get
        {
            foreach (TensorStatistics s in _collector.Statistics)
            {
                if (!s.IsFinite)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>How many gradients of the last step took the device path's second, exact read.</summary>
    internal int LastExactReads => _collector.LastExactReads;

    /// <summary>Measures the CPU gradients and queues the others' device reductions. Every <c>p.grad</c> wrapper it reads
    /// is disposed by the caller's dispose scope.</summary>
    /// <param name="transfer">The step's host transfer.</param>
    /// <param name="countZeros">Whether the device reads count zeros (full-statistics steps; null: as the last read did); the managed
    /// reads always do.</param>
    /// <param name="holdGradients">Keep the <c>p.grad</c> wrappers (outside every dispose scope) until
    /// <see cref="ReleaseGradients"/>, so the clipping stage of the same step applies its decision without reading
    /// <c>p.grad</c> again (every read makes a new native handle: one tensor per parameter tensor per read).</param>
    public void Queue(HostTransfer transfer, bool? countZeros = null, bool holdGradients = false)
    {
        ReleaseGradients();
        _collector.Begin();
        // Null (a re-measure after clipping, in the same step): count as the step's read did.
        _collector.CountZeros = countZeros ?? _collector.CountZeros;
        for (int i = 0; i < layers.Length; i++)
        {
            Parameter[] parameters = layers[i].Parameters;
            for (int k = 0; k < parameters.Length; k++)
            {
                torch.Tensor? grad = parameters[k].grad;
                if (grad is not null)
                {
                    torch.Tensor? weight = holdGradients && ReadsUnitNorms ? parameters[k] : null;
                    _unitsRead[i][k] = _collector.Add(i, grad, transfer, weight, ref _units[i][k]);
                    _held[i][k] = holdGradients ? grad.DetachFromDisposeScope() : null;
                }
            }
        }

        _holding = holdGradients;
    }

    /// <summary>Measures the same step's gradients again (after the clipping stage changed them in place), counting zeros
    /// as the step's read did. When <see cref="Queue"/> held the <c>p.grad</c> wrappers, it reads those and keeps holding
    /// them: no <c>p.grad</c> read, so no new wrapper per parameter tensor; otherwise it reads <c>p.grad</c> again. A
    /// gradient whose unit norms are still held (scaled as it was) is measured from them, with no pass over it.</summary>
    /// <param name="transfer">The host transfer the device results are queued on.</param>
    public void Requeue(HostTransfer transfer)
    {
        if (!_holding)
        {
            Queue(transfer);
            return;
        }

        _collector.Begin();
        for (int i = 0; i < layers.Length; i++)
        {
            for (int k = 0; k < _held[i].Length; k++)
            {
                if (_held[i][k] is not torch.Tensor grad)
                {
                    continue;
                }

                if (Units(i, k) is UnitNorms units)
                {
                    _collector.AddUnitNorms(i, grad, units, transfer);
                }
                else
                {
                    _collector.Add(i, grad, transfer);
                }
            }
        }
    }

    /// <summary>The unit norms of parameter <paramref name="index"/> of layer <paramref name="layer"/> and its gradient, read
    /// at the step's read (<see cref="ReadsUnitNorms"/>) and kept equal to the gradient's: a caller that changes the
    /// gradient scales them as well, or calls <see cref="ForgetUnits"/>. Null when this step's read did not take them.</summary>
    public UnitNorms? Units(int layer, int index) => _unitsRead[layer][index] ? _units[layer][index] : null;

    /// <summary>Stops using the unit norms of one gradient for this step, after a change they cannot follow (a clamp): the
    /// next <see cref="Requeue"/> reads that gradient again. The next step's read reuses them.</summary>
    public void ForgetUnits(int layer, int index) => _unitsRead[layer][index] = false;

    /// <summary>The gradient of parameter <paramref name="index"/> of layer <paramref name="layer"/>: the wrapper held since
    /// <see cref="Queue"/> when it held them (null when the parameter had none), else a new read of <c>p.grad</c> (in the
    /// caller's dispose scope).</summary>
    public torch.Tensor? Gradient(int layer, int index) => _holding ? _held[layer][index] : layers[layer].Parameters[index].grad;

    /// <summary>Releases the wrappers <see cref="Queue"/> held (not the gradients: only this handle to them), and stops using
    /// the step's unit norms.</summary>
    public void ReleaseGradients()
    {
        for (int i = 0; i < _held.Length; i++)
        {
            for (int k = 0; k < _held[i].Length; k++)
            {
                _held[i][k]?.Dispose();
                _held[i][k] = null;
                ForgetUnits(i, k);
            }
        }

        _holding = false;
    }

    /// <summary>Allocates, at attach, the reused buffers the device path will read these layers' gradients (and
    /// parameters) through (<see cref="DeviceReduction.BufferFor"/>), each as large as the largest such tensor or chunk;
    /// nothing for the tensors the span read takes (dense CPU ones, unless the device path is forced).</summary>
    public void ReserveScratch()
    {
        bool forced = DevicePath.ForcedOnCpu;
        var sizes = new Dictionary<(torch.ScalarType, DeviceType, int), (torch.Device Device, long Elements)>();
        foreach (Parameter parameter in layers.SelectMany(l => l.Parameters))
        {
            DeviceType device = parameter.device_type;
            if ((device != DeviceType.CPU || forced)
                && DeviceReduction.BufferFor(parameter.dtype, device, parameter.numel()) is (torch.ScalarType type, long elements))
            {
                var key = (type, device, parameter.device_index);
                sizes[key] = (parameter.device, Math.Max(elements, sizes.TryGetValue(key, out var known) ? known.Elements : 0));
            }
        }

        foreach (((torch.ScalarType type, _, _), (torch.Device device, long elements)) in sizes)
        {
            Scratch.Reserve(type, device, elements);
        }
    }

    /// <summary>The device path's reused buffers (shared with the monitor's parameter reads).</summary>
    internal ReductionScratch Scratch => _collector.Scratch;

    /// <summary>Releases the held wrappers, the unit norms and the device path's reused buffers.</summary>
    public void Dispose()
    {
        ReleaseGradients();
        foreach (UnitNorms?[] units in _units)
        {
            foreach (UnitNorms? u in units)
            {
                u?.Dispose();
            }
        }

        _collector.Dispose();
    }

    /// <summary>Folds the device results into <see cref="Statistics"/>.</summary>
    public void Complete(ReadOnlySpan<double> host) => _collector.Complete(host);
}
