using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>
/// Measures the sequence length each recurrent layer sees on one forward of the remedy's closure: for a fused module the
/// time dimension of its input (the dimension of a [T, B, F] or [B, T, F] input that is not the batch size of its final
/// state h_n, so <c>batch_first</c> need not be known; T of an unbatched [T, F] input), for a cell the number of calls.
/// The hooks return the output they got, so the forward is unchanged; they are removed on <see cref="Dispose"/>.
/// </summary>
internal sealed class SequenceLengths : IDisposable
{
    private readonly int[] _lengths;
    private readonly List<Action> _removers = [];

    public SequenceLengths(IReadOnlyList<RecurrentLayer> layers)
    {
        _lengths = new int[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            int index = i;
            Action? remover = layers[i].Module switch
            {
                torch.nn.Module<Tensor, Tensor, (Tensor, Tensor)> m => // RNN, GRU
                    m.register_forward_hook((_, x, _, y) => Fused(index, x, y.Item2, y)).remove,
                torch.nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)> m => // LSTM
                    m.register_forward_hook((_, x, _, y) => Fused(index, x, y.Item2, y)).remove,
                torch.nn.Module<Tensor, Tensor, Tensor> m => // RNNCell, GRUCell
                    m.register_forward_hook((_, _, _, y) => Count(index, y)).remove,
                torch.nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor)> m => // LSTMCell
                    m.register_forward_hook((_, _, _, y) => Count(index, y)).remove,
                _ => null,
            };
            if (remover is not null)
            {
                _removers.Add(remover);
            }
        }
    }

    /// <summary>The sequence length each layer saw on the forwards run since construction (the longest, for fused
    /// modules; the calls of the last forward are not told apart from earlier ones, so run one forward); 0 when it was
    /// not called.</summary>
    public IReadOnlyList<int> Lengths => _lengths;

    public void Dispose()
    {
        foreach (Action remove in _removers)
        {
            remove();
        }

        _removers.Clear();
    }

    private T Fused<T>(int index, Tensor? input, Tensor finalState, T output)
    {
        if (input is not null)
        {
            long steps = input.dim() == 2 || input.shape[0] != finalState.shape[^2] ? input.shape[0] : input.shape[1];
            _lengths[index] = Math.Max(_lengths[index], (int)Math.Min(steps, int.MaxValue));
        }

        return output;
    }

    private T Count<T>(int index, T output)
    {
        _lengths[index]++;
        return output;
    }
}
