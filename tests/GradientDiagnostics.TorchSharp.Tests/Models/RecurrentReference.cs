using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Models;

/// <summary>
/// A measurement of the gradient through time that shares nothing with the product's: the recurrence written out by
/// hand with a module's own parameters (single layer, one direction), libtorch's <c>retain_grad</c> on every step's
/// state, and a loss ⟨v, h_T⟩ on the last step only (v a fixed unit vector per sequence). Then ‖∂L/∂state_t‖ is exact,
/// each step's gain is the ratio of consecutive norms, and the memory horizon is counted from the norms.
/// </summary>
internal static class RecurrentReference
{
    /// <summary>‖∂L/∂h_t‖ (tanh or ReLU RNN, GRU) or ‖∂L/∂(h_t, c_t)‖ (LSTM), t = 0 … T−1, for input x [T, B, F].</summary>
    public static double[] Norms(RecurrentKind kind, nn.Module module, Tensor x, string suffix = "_l0", bool relu = false)
    {
        using var scope = NewDisposeScope();
        var p = module.named_parameters().ToDictionary(n => n.name, n => n.parameter.detach());
        Tensor wih = p["weight_ih" + suffix], whh = p["weight_hh" + suffix], b = p["bias_ih" + suffix] + p["bias_hh" + suffix];
        long steps = x.shape[0], batch = x.shape[1], hidden = whh.shape[1];
        // h_{-1} and c_{-1} require grad so every later state is in the graph.
        Tensor h = zeros(batch, hidden).requires_grad_(), c = zeros(batch, hidden).requires_grad_();
        var states = new List<Tensor[]>();
        for (long t = 0; t < steps; t++)
        {
            Tensor input = x[t];
            switch (kind)
            {
                case RecurrentKind.RNN:
                    Tensor a = input.matmul(wih.t()) + h.matmul(whh.t()) + b;
                    h = relu ? a.relu() : a.tanh();
                    break;
                case RecurrentKind.LSTM:
                    Tensor[] g = (input.matmul(wih.t()) + h.matmul(whh.t()) + b).chunk(4, 1);
                    c = g[1].sigmoid() * c + g[0].sigmoid() * g[2].tanh();
                    h = g[3].sigmoid() * c.tanh();
                    break;
                default:
                    Tensor[] gi = (input.matmul(wih.t()) + p["bias_ih" + suffix]).chunk(3, 1);
                    Tensor[] gh = (h.matmul(whh.t()) + p["bias_hh" + suffix]).chunk(3, 1);
                    Tensor r = (gi[0] + gh[0]).sigmoid(), z = (gi[1] + gh[1]).sigmoid();
                    Tensor n = (gi[2] + r * gh[2]).tanh();
                    h = (1 - z) * n + z * h;
                    break;
            }

            h.retain_grad();
            if (kind == RecurrentKind.LSTM)
            {
                c.retain_grad();
            }

            states.Add(kind == RecurrentKind.LSTM ? [h, c] : [h]);
        }

        using (var generator = new Generator(7))
        {
            Tensor v = randn([batch, hidden], generator: generator);
            (v / v.norm(1, keepdim: true) * h).sum().backward();
        }

        return [.. states.Select(s => Math.Sqrt(s.Sum(state => state.grad is Tensor grad ? grad.square().sum().item<float>() : 0.0)))];
    }

    /// <summary>The geometric-mean gain per step, (‖g_0‖ / ‖g_{T−1}‖)^(1/(T−1)).</summary>
    public static double Gain(double[] norms) => Math.Pow(norms[0] / norms[^1], 1.0 / (norms.Length - 1));

    /// <summary>The largest k such that the norm k steps back from the last stays at or above <paramref name="fraction"/>
    /// of the norm at the last step (all nearer steps too); null when it never falls below within the sequence.</summary>
    public static int? Horizon(double[] norms, double fraction = 0.01)
    {
        for (int k = 1; k < norms.Length; k++)
        {
            if (norms[^(k + 1)] < fraction * norms[^1])
            {
                return k - 1;
            }
        }

        return null;
    }
}
