using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.Recovery;

/// <summary>
/// A bit-exact copy of a model's parameters and buffers and of its optimizer's state at one step. The tensors are
/// cloned (to host memory, or on their device); the optimizer's per-parameter state (momentum buffers, Adam's moments
/// and step counts, …) is written with TorchSharp's own <c>OptimizerState.SaveStateDict</c> into a byte array, so every
/// optimizer derived from <c>OptimizerHelper</c> is covered without knowing its fields.
/// </summary>
internal sealed class TrainingStateSnapshot : IDisposable
{
    private readonly torch.Tensor[] _copies;
    private readonly byte[] _optimizerState;

    private TrainingStateSnapshot(torch.Tensor[] copies, byte[] optimizerState)
    {
        _copies = copies;
        _optimizerState = optimizerState;
    }

    /// <summary>The bytes held: tensor copies plus serialized optimizer state.</summary>
    public long Bytes => _copies.Sum(c => c.numel() * c.element_size()) + _optimizerState.LongLength;

    /// <summary>Copies <paramref name="tensors"/> and the optimizer's state.</summary>
    public static TrainingStateSnapshot Capture(IReadOnlyList<torch.Tensor> tensors, OptimizerHelper optimizer, bool onDevice)
    {
        var copies = new torch.Tensor[tensors.Count];
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            for (int i = 0; i < copies.Length; i++)
            {
                torch.Tensor source = tensors[i].detach();
                torch.Tensor copy = onDevice || source.device_type == DeviceType.CPU ? source.clone() : source.cpu();
                copies[i] = copy.DetachFromDisposeScope();
            }
        }

        try
        {
            // Sized for one optimizer slot per element (SGD's momentum) plus headers: SGD's state fits without regrowing
            // the stream, Adam's two slots regrow it once.
            long capacity = Math.Min(Array.MaxLength, (64 * 1024) + copies.Sum(c => c.numel() * c.element_size()));
            using var stream = new MemoryStream((int)capacity);
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                foreach (OptimizerState state in optimizer.state_dict().State)
                {
                    state.SaveStateDict(writer);
                }
            }

            return new TrainingStateSnapshot(copies, stream.ToArray());
        }
        catch
        {
            Array.ForEach(copies, c => c.Dispose());
            throw;
        }
    }

    /// <summary>Writes the copies back into <paramref name="tensors"/> (the same tensors, in the same order, as at
    /// capture) and loads the optimizer's state, in place.</summary>
    public void Restore(IReadOnlyList<torch.Tensor> tensors, OptimizerHelper optimizer)
    {
        if (tensors.Count != _copies.Length)
        {
            throw new InvalidOperationException($"The model has {tensors.Count} parameters and buffers, but the snapshot holds {_copies.Length}: the model changed since the snapshot, so it cannot be restored.");
        }

        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            for (int i = 0; i < _copies.Length; i++)
            {
                tensors[i].copy_(_copies[i]);
            }
        }

        using var reader = new BinaryReader(new MemoryStream(_optimizerState, writable: false));
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
        foreach (torch.Tensor copy in _copies)
        {
            copy.Dispose();
        }
    }
}
