namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>A recurrent module the remedy initializes: its path, its recurrence and its recurrent parameters.</summary>
/// <param name="Name">The module path (as the monitor names layers).</param>
/// <param name="Module">The module: <c>nn.RNN</c>, <c>nn.LSTM</c>, <c>nn.GRU</c> or one of their cells.</param>
/// <param name="Unit">Its recurrence.</param>
/// <param name="IsCell">Whether it is a cell, called once per time step.</param>
/// <param name="Recurrences">One entry per stacked layer and direction (one for a cell).</param>
internal sealed record RecurrentLayer(string Name, torch.nn.Module Module, RecurrentUnit Unit, bool IsCell, IReadOnlyList<RecurrenceParameters> Recurrences)
{
    /// <summary>A short description for messages: <c>'rnn' (tanh RNN)</c>.</summary>
    public string Describe() => $"'{Name}' ({Unit switch
    {
        RecurrentUnit.RnnTanh => "tanh RNN",
        RecurrentUnit.RnnRelu => "ReLU RNN",
        RecurrentUnit.Lstm => "LSTM",
        _ => "GRU",
    }}{(IsCell ? " cell" : string.Empty)})";
}
