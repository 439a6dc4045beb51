using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <summary>
/// The diagnostic pass of a fused module: a sub-batch re-run one time step at a time with the module's own weights
/// (detached, so no parameter gradient changes) and PyTorch's math, probed like a cell loop, then back-propagated from
/// the surrogate loss Σ⟨y, ∂L/∂y⟩ + Σ⟨h_n, ∂L/∂h_n⟩ (+ Σ⟨c_n, ∂L/∂c_n⟩). Back-propagation is linear in the gradients it
/// starts from, so with the step's own output gradients this surrogate gives exactly the step's ∂L/∂h_t on those
/// sequences. It uses plain tensor ops, never cuDNN's RNN kernel, so it runs in training and evaluation mode alike.
/// </summary>
/// <remarks>Gate math as PyTorch documents it: RNN h' = f(W_ih x + b_ih + W_hh h + b_hh); LSTM gates i | f | g | o,
/// c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'); GRU gates r | z | n, n = tanh(W_in x + b_in + σ(r)·(W_hn h + b_hn)),
/// h' = (1 − σ(z))·n + σ(z)·h.</remarks>
internal static class FusedReplay
{
    /// <summary>Runs one layer and direction over <paramref name="input"/> ([T, n, F]) from the initial state(s), and
    /// records each step in <paramref name="steps"/>. Returns the layer's outputs [T, n, H] and its last state(s).</summary>
    public static (Tensor Output, Tensor[] Last) Layer(
        string unit, Tensor input, Tensor[] initial, (Tensor Ih, Tensor Hh, Tensor? BiasIh, Tensor? BiasHh) w, bool reverse, RecurrenceSteps steps)
    {
        int length = (int)input.shape[0];
        Tensor ih = w.Ih.detach(), hh = w.Hh.detach();
        // The input part of every step at once; the recurrent part must go step by step.
        Tensor fromInput = input.matmul(ih.t());
        if (w.BiasIh is not null)
        {
            fromInput += w.BiasIh.detach();
        }

        Tensor? biasHh = w.BiasHh?.detach();
        var outputs = new Tensor[length];
        Tensor[] state = [.. initial.Select(s => s.detach().clone().requires_grad_(true))];
        for (int i = 0; i < length; i++)
        {
            int t = reverse ? length - 1 - i : i;
            Tensor[] read = i == 0 ? state : [.. state.Select(s => s.view_as(s))];
            if (i > 0)
            {
                Array.ForEach(read, r => r.retain_grad());
            }

            Tensor fromState = read[0].matmul(hh.t());
            if (biasHh is not null)
            {
                fromState += biasHh;
            }

            state = Cell(unit, fromInput[t], fromState, read);
            Array.ForEach(state, s => s.retain_grad());
            steps.Set(t, read, state);
            outputs[t] = state[0];
        }

        return (torch.stack(outputs), state);
    }

    private static Tensor[] Cell(string unit, Tensor fromInput, Tensor fromState, Tensor[] read)
    {
        switch (unit)
        {
            case "LSTM":
            {
                Tensor[] g = (fromInput + fromState).chunk(4, -1);
                Tensor c = g[1].sigmoid() * read[1] + g[0].sigmoid() * g[2].tanh();
                return [g[3].sigmoid() * c.tanh(), c];
            }

            case "GRU":
            {
                Tensor[] x = fromInput.chunk(3, -1), h = fromState.chunk(3, -1);
                Tensor z = (x[1] + h[1]).sigmoid();
                Tensor n = (x[2] + (x[0] + h[0]).sigmoid() * h[2]).tanh();
                return [(1 - z) * n + z * read[0]];
            }

            case "RNN_RELU":
                return [(fromInput + fromState).relu()];
            default:
                return [(fromInput + fromState).tanh()];
        }
    }
}
