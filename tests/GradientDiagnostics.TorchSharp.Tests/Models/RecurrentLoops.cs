using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Models;

/// <summary>A cell (RNNCell, LSTMCell, GRUCell) called once per time step over an input [T, B, F], through call(); returns
/// the hidden states [T, B, H]. An LSTM's last cell state is kept for losses on c_T.</summary>
internal sealed class CellLoop : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module cell;

    public CellLoop(nn.Module cell)
        : base(nameof(CellLoop))
    {
        this.cell = cell;
        RegisterComponents();
    }

    public nn.Module Cell => cell;

    /// <summary>c_T of the last forward (LSTMCell only).</summary>
    public Tensor? LastCellState { get; private set; }

    public override Tensor forward(Tensor input)
    {
        Tensor? h = null, c = null;
        var states = new List<Tensor>();
        for (int t = 0; t < input.shape[0]; t++)
        {
            switch (cell)
            {
                case LSTMCell lstm:
                    (h, c) = lstm.call(input[t], h is null ? null : (h, c!));
                    break;
                case RNNCell rnn:
                    h = rnn.call(input[t], h!);
                    break;
                case GRUCell gru:
                    h = gru.call(input[t], h!);
                    break;
            }

            states.Add(h!);
        }

        LastCellState = c;
        return stack(states);
    }
}

/// <summary>Recurrent weights set in place under no_grad (TorchSharp's RNN weight setters are disabled).</summary>
internal static class RecurrentWeights
{
    /// <summary>The closed form: W_hh = ρ·Q (Q orthogonal), W_ih = I, zero biases; on every parameter whose name ends
    /// with the given suffixes (a cell's weight_hh, a fused module's weight_hh_l0, …).</summary>
    public static void ScaledOrthogonal(nn.Module module, double rho)
    {
        using var noGrad = no_grad();
        foreach ((string name, Parameter p) in module.named_parameters())
        {
            if (name.Contains("weight_hh", StringComparison.Ordinal))
            {
                nn.init.orthogonal_(p);
                p.mul_(rho);
            }
            else if (name.Contains("weight_ih", StringComparison.Ordinal))
            {
                p.copy_(eye(p.shape[0], p.shape[1], dtype: p.dtype));
            }
            else
            {
                p.zero_();
            }
        }
    }

    /// <summary>Every weight 0, and the effective bias of rows [H, 2H) (an LSTM's forget gate) equal to b, split over
    /// b_ih and b_hh.</summary>
    public static void ZeroWithForgetBias(nn.Module module, double b)
    {
        using var noGrad = no_grad();
        foreach ((string name, Parameter p) in module.named_parameters())
        {
            p.zero_();
            if (name.Contains("bias", StringComparison.Ordinal))
            {
                long hidden = p.shape[0] / 4;
                p.narrow(0, hidden, hidden).fill_(b / 2);
            }
        }
    }

    /// <summary>W_hh = gain·I, W_ih = I, zero biases (a ReLU RNN on positive inputs then has a gain of exactly gain).</summary>
    public static void ScaledIdentity(nn.Module module, double gain)
    {
        using var noGrad = no_grad();
        foreach ((string name, Parameter p) in module.named_parameters())
        {
            if (name.Contains("weight", StringComparison.Ordinal))
            {
                p.copy_(eye(p.shape[0], p.shape[1], dtype: p.dtype) * (name.Contains("weight_hh", StringComparison.Ordinal) ? gain : 1));
            }
            else
            {
                p.zero_();
            }
        }
    }
}
