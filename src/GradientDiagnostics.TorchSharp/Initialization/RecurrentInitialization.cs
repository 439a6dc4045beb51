using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>
/// The analytic start of the recurrent remedy, written in place under no_grad (TorchSharp's RNN weight setters are
/// disabled, and an in-place write reaches the native module's own tensors):
/// <list type="bullet">
/// <item>tanh RNN: an orthogonal recurrent weight (Saxe, McClelland &amp; Ganguli 2014): every singular value 1, so the
/// linearized step neither shrinks nor grows the signal; the measured rounds then scale it (see <see cref="ScaleRecurrentWeight"/>).</item>
/// <item>ReLU RNN: the identity and zero biases (Le, Jaitly &amp; Hinton 2015, "IRNN").</item>
/// <item>LSTM and GRU: each gate's H×H recurrent block orthogonal; chrono initialization (Tallec &amp; Ollivier 2018) of the
/// gate that keeps memory: the forget gate of an LSTM (rows [H, 2H) of i | f | g | o) gets b_f ~ log(U(1, T − 1)) and
/// its input gate b_i = −b_f; the update gate of a GRU (rows [H, 2H) of r | z | n) gets b_z ~ log(U(1, T − 1)), since in
/// PyTorch's GRU h' = (1 − z)⊙n + z⊙h, so a large z keeps the old state. σ(log u) = u / (1 + u) is a retention
/// timescale −1/ln σ ≈ u + ½ steps, so the slowest units keep their memory over about T steps.</item>
/// </list>
/// The effective gate bias is b_ih + b_hh: the value is written into b_ih and the same slice of b_hh is set to 0, so
/// nothing is counted twice. Input weights are left alone.
/// </summary>
internal static class RecurrentInitialization
{
    /// <summary>Writes the analytic start into the layer's recurrent parameters, for sequences of
    /// <paramref name="sequenceLength"/> steps.</summary>
    public static void Apply(RecurrentLayer layer, int sequenceLength)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (RecurrenceParameters weights in layer.Recurrences)
        {
            long h = weights.HiddenSize;
            long gates = weights.WeightHh.shape[0] / h;
            if (layer.Unit == RecurrentUnit.RnnRelu)
            {
                weights.WeightHh.copy_(torch.eye(h, dtype: weights.WeightHh.dtype, device: weights.WeightHh.device));
                weights.BiasIh?.zero_();
                weights.BiasHh?.zero_();
                continue;
            }

            for (long gate = 0; gate < gates; gate++)
            {
                weights.WeightHh.narrow(0, gate * h, h).copy_(Orthogonal(h));
            }

            if (layer.Unit is RecurrentUnit.Lstm or RecurrentUnit.Gru && weights.BiasIh is Parameter ih && weights.BiasHh is Parameter hh)
            {
                torch.Tensor chrono = Chrono(h, sequenceLength);
                ih.narrow(0, h, h).copy_(chrono);
                hh.narrow(0, h, h).zero_();
                if (layer.Unit == RecurrentUnit.Lstm)
                {
                    ih.narrow(0, 0, h).copy_(chrono.neg());
                    hh.narrow(0, 0, h).zero_();
                }
            }
        }
    }

    /// <summary>Multiplies a tanh RNN's recurrent weights by <paramref name="factor"/> in place; nothing for other units or
    /// a factor that is 1 or not finite and positive.</summary>
    public static void ScaleRecurrentWeight(RecurrentLayer layer, double factor)
    {
        if (layer.Unit != RecurrentUnit.RnnTanh || factor == 1 || !double.IsFinite(factor) || factor <= 0)
        {
            return;
        }

        using var noGrad = torch.no_grad();
        foreach (RecurrenceParameters weights in layer.Recurrences)
        {
            weights.WeightHh.mul_(factor);
        }
    }

    /// <summary>Whether the layer's memory gate bias could be set (an LSTM or GRU with biases).</summary>
    public static bool HasGateBias(RecurrentLayer layer) => layer.Recurrences.All(r => r.BiasIh is not null && r.BiasHh is not null);

    private static torch.Tensor Orthogonal(long size)
    {
        torch.Tensor q = torch.empty(size, size, torch.ScalarType.Float64);
        torch.nn.init.orthogonal_(q);
        return q;
    }

    /// <summary>log(u), u ~ U(1, max(T − 1, 1)): Tallec &amp; Ollivier 2018, eq. 16.</summary>
    private static torch.Tensor Chrono(long size, int sequenceLength)
    {
        double high = Math.Max(sequenceLength - 1, 1);
        return torch.rand(size, torch.ScalarType.Float64).mul_(high - 1).add_(1).log_();
    }
}
