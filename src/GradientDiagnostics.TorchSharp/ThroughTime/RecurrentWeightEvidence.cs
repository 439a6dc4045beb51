using TorchSharp.Modules;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <summary>
/// What a recurrent layer's weights say about its gain, read on measuring steps only: the largest singular value of each
/// H × H gate block of W_hh (<c>torch.linalg.matrix_norm</c>, ord 2) and, for LSTM and GRU, the mean retention timescale
/// −1/ln σ(b) of the gate in rows [H, 2H) (LSTM forget, GRU update), b = b_ih + b_hh. Computed on the weights' device in
/// float64 and queued on the step's one host transfer.
/// </summary>
internal static class RecurrentWeightEvidence
{
    private static readonly string[] LstmGates = ["i", "f", "g", "o"];
    private static readonly string[] GruGates = ["r", "z", "n"];

    /// <summary>Where the values were queued, and how many gate blocks there are.</summary>
    internal readonly record struct Pending(int Offset, int Gates, bool Timescale);

    /// <summary>The number of gate blocks of a unit's W_hh: 4 for an LSTM, 3 for a GRU, 1 for a vanilla RNN.</summary>
    public static int GateCount(string unit) => unit switch { "LSTM" => 4, "GRU" => 3, _ => 1 };

    /// <summary>A cell's W_hh, b_ih and b_hh (the biases null when it has none).</summary>
    public static (Tensor WeightHh, Tensor? BiasIh, Tensor? BiasHh) OfCell(torch.nn.Module cell) => cell switch
    {
        RNNCell c => (c.weight_hh!, c.bias_ih, c.bias_hh),
        LSTMCell c => (c.weight_hh!, c.bias_ih, c.bias_hh),
        GRUCell c => (c.weight_hh!, c.bias_ih, c.bias_hh),
        _ => throw new ArgumentException($"{cell.GetType().Name} is not a recurrent cell.", nameof(cell)),
    };

    /// <summary>Queues the spectral norms (and the timescale, for gated units with biases) in the caller's scope.</summary>
    public static Pending Queue(HostTransfer transfer, string unit, Tensor weightHh, Tensor? biasIh, Tensor? biasHh)
    {
        using var noGrad = torch.no_grad();
        int gates = GateCount(unit);
        long hidden = weightHh.shape[1];
        Tensor w = weightHh.detach().to(torch.ScalarType.Float64).reshape(gates, hidden, hidden);
        Tensor norms = torch.linalg.matrix_norm(w, 2.0);
        bool timescale = gates > 1 && biasIh is not null && biasHh is not null;
        if (timescale)
        {
            // −1/ln σ(b) = 1/softplus(−b): finite where σ(b) rounds to 1 in float32 (a chrono-initialized bias of 20).
            Tensor b = (biasIh!.detach().narrow(0, hidden, hidden) + biasHh!.detach().narrow(0, hidden, hidden)).to(torch.ScalarType.Float64);
            norms = torch.cat([norms, torch.nn.functional.softplus(-b).reciprocal().mean().reshape(1)]);
        }

        return new Pending(transfer.Add(norms), gates, timescale);
    }

    /// <summary>The profile with the weights' evidence read from the transfer.</summary>
    public static RecurrentTimeProfile Apply(ReadOnlySpan<double> host, Pending pending, RecurrentTimeProfile profile)
    {
        double[] norms = host.Slice(pending.Offset, pending.Gates).ToArray();
        int largest = Array.IndexOf(norms, norms.Max());
        string[] names = pending.Gates == 4 ? LstmGates : GruGates;
        return profile with
        {
            RecurrentSpectralNorm = norms[largest],
            SpectralNormGate = pending.Gates == 1 ? null : names[largest],
            GateSpectralNorms = pending.Gates == 1 ? [] : norms,
            ForgetTimescale = pending.Timescale ? host[pending.Offset + pending.Gates] : null,
        };
    }
}
