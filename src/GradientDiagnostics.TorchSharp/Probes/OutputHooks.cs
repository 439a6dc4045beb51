using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// Registers a probe's forward hook on a module, for every forward signature TorchSharp 0.107 ships whose output is a
/// tensor or a tuple of tensors (the list was taken from the TorchSharp assembly by reflection). Outputs of a tuple after
/// the first (h_n, c_n) are probed as extras: their gradients add to the layer's ‖∂L/∂y‖. The attention weights of
/// <c>MultiheadAttention</c> are not the layer's output and are left alone.
/// </summary>
internal static class OutputHooks
{
    /// <summary>Registers the hook and returns its remover, or null with the reason the module cannot be hooked.</summary>
    public static Action? Register(torch.nn.Module module, LayerProbe probe, LayerOutputProbes probes, out string? reason)
    {
        reason = null;
        switch (module)
        {
            case torch.nn.Module<Tensor, Tensor> m: // Linear, Conv, norms, Embedding, TransformerEncoderLayer, …
                return m.register_forward_hook((_, _, y) => probes.Probe(probe, y)).remove;
            case torch.nn.Module<Tensor, Tensor, Tensor> m: // Bilinear, RNNCell, GRUCell, Transformer
                return m.register_forward_hook((_, _, _, y) => probes.Probe(probe, y)).remove;
            case torch.nn.Module<Tensor, Tensor, Tensor, Tensor> m: // TransformerEncoder (src, mask, key-padding mask), EmbeddingBag
                return m.register_forward_hook((_, _, _, _, y) => probes.Probe(probe, y)).remove;
            case torch.nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor> m:
                return m.register_forward_hook((_, _, _, _, _, y) => probes.Probe(probe, y)).remove;
            case torch.nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> m: // TransformerDecoder(Layer)
                return m.register_forward_hook((_, _, _, _, _, _, _, y) => probes.Probe(probe, y)).remove;
            case torch.nn.Module<Tensor, Tensor, long[], Tensor> m: // MaxUnpool
                return m.register_forward_hook((_, _, _, _, y) => probes.Probe(probe, y)).remove;
            case torch.nn.Module<Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, Tuple<Tensor, Tensor>> m: // MultiheadAttention
                return m.register_forward_hook((_, _, _, _, _, _, _, y) => probes.Capturing
                    ? Tuple.Create(probes.Probe(probe, y.Item1), y.Item2)
                    : probes.Skip(y)).remove;
            case torch.nn.Module<Tensor, Tensor, (Tensor, Tensor)> m: // RNN, GRU
                return m.register_forward_hook((_, _, _, y) => probes.Capturing
                    ? (probes.Probe(probe, y.Item1), LayerOutputProbes.ProbeExtra(probe, y.Item2))
                    : probes.Skip(y)).remove;
            case torch.nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)> m: // LSTM
                return m.register_forward_hook((_, _, _, y) => probes.Capturing
                    ? (probes.Probe(probe, y.Item1), LayerOutputProbes.ProbeExtra(probe, y.Item2), LayerOutputProbes.ProbeExtra(probe, y.Item3))
                    : probes.Skip(y)).remove;
            case torch.nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor)> m: // LSTMCell
                return m.register_forward_hook((_, _, _, y) => probes.Capturing
                    ? (probes.Probe(probe, y.Item1), LayerOutputProbes.ProbeExtra(probe, y.Item2))
                    : probes.Skip(y)).remove;
            default:
                reason = Unhookable(module);
                return null;
        }
    }

    /// <summary>Why a module has no usable forward hook: a plain <c>Module</c>, or a signature the adapter does not know.</summary>
    private static string Unhookable(torch.nn.Module module)
    {
        for (Type? type = module.GetType(); type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition().FullName is string name && name.StartsWith("TorchSharp.torch+nn+Module`",
                StringComparison.Ordinal))
            {
                string arguments = string.Join(", ", type.GetGenericArguments().Select(Describe));
                return $"{module.GetType().Name} is a Module<{arguments}>, a signature TorchSharp does not ship; its forward hook's type is unknown to the " +
                    "monitor";
            }
        }

        return $"{module.GetType().Name} derives from the plain Module, which has no forward hooks";
    }

    private static string Describe(Type type) => type.IsGenericType
        ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(Describe))}>"
        : type.Name;
}
