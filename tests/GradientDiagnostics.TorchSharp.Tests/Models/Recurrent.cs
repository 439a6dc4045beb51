using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Models;

public enum RecurrentKind { RNN, LSTM, GRU }

/// <summary>A recurrent layer (calling it through call()) followed by a Linear head on its output sequence.</summary>
internal sealed class RecurrentRegressor : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module recurrent;
    private readonly nn.Module<Tensor, Tensor> head;

    public RecurrentRegressor(RecurrentKind kind, int input, int hidden)
        : base(nameof(RecurrentRegressor))
    {
        recurrent = kind switch
        {
            RecurrentKind.RNN => nn.RNN(input, hidden),
            RecurrentKind.LSTM => nn.LSTM(input, hidden),
            _ => nn.GRU(input, hidden),
        };
        head = nn.Linear(hidden, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        Tensor sequence = recurrent switch
        {
            global::TorchSharp.Modules.LSTM lstm => lstm.call(input).Item1,
            global::TorchSharp.Modules.RNN rnn => rnn.call(input).Item1,
            global::TorchSharp.Modules.GRU gru => gru.call(input).Item1,
            _ => throw new InvalidOperationException(),
        };
        return head.call(sequence);
    }
}

/// <summary>A language-model-like module whose output projection shares the embedding's weight (tied weights).</summary>
internal sealed class TiedEmbeddingModel : nn.Module<Tensor, Tensor>
{
    private readonly global::TorchSharp.Modules.Embedding embedding;
    private readonly global::TorchSharp.Modules.Linear hidden;
    private readonly global::TorchSharp.Modules.Linear output;

    public TiedEmbeddingModel(int vocabulary, int dimension)
        : base(nameof(TiedEmbeddingModel))
    {
        embedding = nn.Embedding(vocabulary, dimension);
        hidden = nn.Linear(dimension, dimension);
        output = nn.Linear(dimension, vocabulary, hasBias: false);
        output.weight = embedding.weight!;
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens) => output.call(hidden.call(embedding.call(tokens)).tanh());
}

/// <summary>A custom module that calls one child through forward(), bypassing its hooks (the mistake the monitor warns about).</summary>
internal sealed class BypassingModel : nn.Module<Tensor, Tensor>
{
    private readonly global::TorchSharp.Modules.Linear first = nn.Linear(8, 8);
    private readonly global::TorchSharp.Modules.Linear second = nn.Linear(8, 1);

    public BypassingModel()
        : base(nameof(BypassingModel)) => RegisterComponents();

    public override Tensor forward(Tensor input) => second.call(first.forward(input).relu());
}
