using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.Samples.MemoryHorizon;

/// <summary>A recurrent layer (an <c>nn.LSTM</c> or a tanh <c>nn.RNN</c>, called through <c>call()</c>) and a Linear head
/// on its last step's output.</summary>
public sealed class RecallModel : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module recurrent;
    private readonly Linear head;

    /// <summary>A model with TorchSharp's default initialization.</summary>
    public RecallModel(bool lstm, int hidden)
        : base(nameof(RecallModel))
    {
        recurrent = lstm ? nn.LSTM(2, hidden) : nn.RNN(2, hidden);
        head = nn.Linear(hidden, 1);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        Tensor sequence = recurrent is LSTM lstm ? lstm.call(input).Item1 : ((RNN)recurrent).call(input).Item1;
        return head.call(sequence[-1]);
    }
}
