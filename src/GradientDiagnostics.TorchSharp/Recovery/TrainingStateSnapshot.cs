using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.Recovery;

/// <summary>
/// A bit-exact copy of a model's parameters and buffers and of its optimizer's state at one step. The tensors are
/// copied (to host memory, or on their device); the optimizer's per-parameter state (momentum buffers, Adam's moments
/// and step counts, …) is written with TorchSharp's own <c>OptimizerState.SaveStateDict</c> into a byte buffer, so every
/// optimizer derived from <c>OptimizerHelper</c> is covered without knowing its fields.
/// </summary>
/// <remarks>A snapshot is reusable: <see cref="Capture"/> given an evicted snapshot copies into its tensors
/// (<c>copy_</c>) and rewrites its byte buffer in place, so steady-state captures allocate nothing large and touch no
/// fresh pages. Copies whose shape, dtype or device no longer match are replaced.</remarks>
internal sealed class TrainingStateSnapshot : IDisposable
{
    private torch.Tensor[] _copies;
    private readonly MemoryStream _optimizerState;

    private TrainingStateSnapshot(torch.Tensor[] copies, MemoryStream optimizerState)
    {
        _copies = copies;
        _optimizerState = optimizerState;
    }

    /// <summary>The bytes held: tensor copies plus serialized optimizer state.</summary>
    public long Bytes => _copies.Sum(c => c.numel() * c.element_size()) + _optimizerState.Length;

    /// <summary>Copies <paramref name="tensors"/> and the optimizer's state, into <paramref name="reuse"/> when given (an
    /// evicted snapshot, whose contents are overwritten and which is returned), else into a new snapshot. On a failure
    /// <paramref name="reuse"/> is disposed.</summary>
    public static TrainingStateSnapshot Capture(IReadOnlyList<torch.Tensor> tensors, OptimizerHelper optimizer, bool onDevice,
        TrainingStateSnapshot? reuse = null)
    {
        TrainingStateSnapshot snapshot = reuse ?? new TrainingStateSnapshot([], new MemoryStream());
        try
        {
            snapshot.CopyTensors(tensors, onDevice);
            snapshot.SaveOptimizerState(optimizer);
            return snapshot;
        }
        catch
        {
            snapshot.Dispose();
            throw;
        }
    }

    private void CopyTensors(IReadOnlyList<torch.Tensor> tensors, bool onDevice)
    {
        if (_copies.Length != tensors.Count)
        {
            DisposeCopies();
            _copies = new torch.Tensor[tensors.Count];
        }

        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            for (int i = 0; i < _copies.Length; i++)
            {
                torch.Tensor source = tensors[i];
                torch.Device device = onDevice || source.device_type == DeviceType.CPU ? source.device : torch.CPU;
                torch.Tensor? copy = _copies[i];
                if (copy is null || copy.dtype != source.dtype || copy.device_type != device.type || copy.device_index != device.index
                    || !copy.shape.AsSpan().SequenceEqual(source.shape))
                {
                    copy?.Dispose();
                    copy = _copies[i] = torch.empty_like(source, device: device).DetachFromDisposeScope();
                }

                copy.copy_(source);
            }
        }
    }

    private void SaveOptimizerState(OptimizerHelper optimizer)
    {
        // Rewritten in place: the stream keeps its buffer, so after the first capture of this snapshot (which grows it
        // to the optimizer state's size) nothing is allocated.
        if (_optimizerState.Capacity == 0)
        {
            // Sized for one optimizer slot per element (SGD's momentum) plus headers: SGD's state fits without regrowing
            // the stream, Adam's two slots regrow it once.
            _optimizerState.Capacity = (int)Math.Min(Array.MaxLength, (64 * 1024) + _copies.Sum(c => c.numel() * c.element_size()));
        }

        _optimizerState.SetLength(0);
        using var writer = new BinaryWriter(_optimizerState, System.Text.Encoding.UTF8, leaveOpen: true);
        foreach (OptimizerState state in optimizer.state_dict().State)
        {
            state.SaveStateDict(writer);
        }
    }

    /// <summary>Writes the copies back into <paramref name="tensors"/> (the same tensors, in the same order, as at
    /// capture) and loads the optimizer's state, in place.</summary>
    public void Restore(IReadOnlyList<torch.Tensor> tensors, OptimizerHelper optimizer)
    {
        if (tensors.Count != _copies.Length)
        {
            throw new InvalidOperationException($"The model has {tensors.Count} parameters and buffers, but the snapshot holds {_copies.Length}: the model " +
                "changed since the snapshot, so it cannot be restored.");
        }

        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            for (int i = 0; i < _copies.Length; i++)
            {
                tensors[i].copy_(_copies[i]);
            }
        }

        using var reader = new BinaryReader(new MemoryStream(_optimizerState.GetBuffer(), 0, (int)_optimizerState.Length, writable: false));
        // LoadStateDict writes into the existing state tensors in place; for a state that has none yet (SGD's momentum
        // buffer before the first step) it creates one, which belongs to the optimizer from now on, not to the
        // training loop's dispose scope.
        using var scope = torch.NewDisposeScope();
        foreach (OptimizerState state in optimizer.state_dict().State)
        {
            state.LoadStateDict(reader);
        }

        scope.Detach([.. scope.DisposablesView]);
    }

    public void Dispose()
    {
        DisposeCopies();
        _copies = [];
        _optimizerState.Dispose();
    }

    private void DisposeCopies()
    {
        foreach (torch.Tensor? copy in _copies)
        {
            copy?.Dispose();
        }
    }
}
