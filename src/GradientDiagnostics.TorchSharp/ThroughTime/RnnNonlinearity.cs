using TorchSharp.Modules;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <summary>
/// Whether a vanilla RNN (fused <c>nn.RNN</c> or <c>RNNCell</c>) applies tanh or ReLU: TorchSharp 0.107 keeps the
/// nonlinearity inside the native module, with no managed field. One step of the module's own forward on a fixed input
/// (no random numbers, so the user's generator is untouched) is compared with both candidates.
/// </summary>
internal static class RnnNonlinearity
{
    /// <summary>The unit of a cell: <c>LSTM</c>, <c>GRU</c>, or the vanilla cell's <c>RNN_TANH</c> / <c>RNN_RELU</c>.</summary>
    public static string OfCell(torch.nn.Module cell)
    {
        if (cell is not RNNCell rnn)
        {
            return cell is LSTMCell ? "LSTM" : "GRU";
        }

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor ih = rnn.weight_ih!, hh = rnn.weight_hh!;
        Tensor x = Ramp(ih.shape[1], ih).unsqueeze(0);
        Tensor h = Ramp(hh.shape[1], hh).unsqueeze(0);
        return Closer(rnn.forward(x, h), PreActivation(x, h, ih, hh, rnn.bias_ih, rnn.bias_hh));
    }

    /// <summary>The unit of a fused <c>nn.RNN</c> from one step of its first layer.</summary>
    public static string OfFused(RNN rnn, FusedParameters parameters)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        parameters.Read();
        (Tensor ih, Tensor hh, Tensor? bih, Tensor? bhh) = parameters.Of(0, reverse: false);
        Tensor x = Ramp(ih.shape[1], ih).reshape(1, 1, -1);
        Tensor h0 = Ramp(hh.shape[1], hh).reshape(1, 1, -1).expand(parameters.Layers * parameters.Directions, 1, -1).contiguous();
        // h_n[0] is the first layer's state after one step, before any inter-layer dropout.
        Tensor hn = rnn.forward(x, h0).Item2[0];
        string unit = Closer(hn, PreActivation(x[0], h0[0], ih, hh, bih, bhh));
        parameters.Clear();
        return unit;
    }

    /// <summary>W_ih x + b_ih + W_hh h + b_hh.</summary>
    private static Tensor PreActivation(Tensor x, Tensor h, Tensor ih, Tensor hh, Tensor? bih, Tensor? bhh)
    {
        Tensor a = x.matmul(ih.t()) + h.matmul(hh.t());
        return bih is null || bhh is null ? a : a + bih + bhh;
    }

    private static string Closer(Tensor actual, Tensor preActivation)
    {
        double tanh = (actual - preActivation.tanh()).abs().max().to(torch.ScalarType.Float64).item<double>();
        double relu = (actual - preActivation.relu()).abs().max().to(torch.ScalarType.Float64).item<double>();
        return relu < tanh ? "RNN_RELU" : "RNN_TANH";
    }

    // Values in [−1, 1] in the weight's dtype and device: some pre-activations come out negative, where tanh and ReLU differ.
    private static Tensor Ramp(long size, Tensor like) =>
        torch.linspace(-1, 1, size, dtype: like.dtype, device: like.device);
}
