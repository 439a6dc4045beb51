using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>Finds the recurrent modules of a model (<c>nn.RNN</c>, <c>nn.LSTM</c>, <c>nn.GRU</c> and their cells) and
/// their recurrent parameters, by TorchSharp's parameter names.</summary>
internal static class RecurrentLayers
{
    public static RecurrentLayer[] Discover(torch.nn.Module model)
    {
        var found = new List<RecurrentLayer>();
        foreach ((string name, torch.nn.Module module) in model.named_modules().Prepend((string.Empty, model)))
        {
            if (Describe(name.Length == 0 ? LayerDiscovery.RootLayerName : name, module) is RecurrentLayer layer && layer.Recurrences.Count > 0)
            {
                found.Add(layer);
            }
        }

        return [.. found];
    }

    private static RecurrentLayer? Describe(string name, torch.nn.Module module)
    {
        (RecurrentUnit? unit, bool cell) = module switch
        {
            RNN => ((RecurrentUnit?)RecurrentUnit.RnnTanh, false),
            RNNCell => (RecurrentUnit.RnnTanh, true),
            LSTM => (RecurrentUnit.Lstm, false),
            LSTMCell => (RecurrentUnit.Lstm, true),
            GRU => (RecurrentUnit.Gru, false),
            GRUCell => (RecurrentUnit.Gru, true),
            _ => (null, false),
        };
        if (unit is not RecurrentUnit kind)
        {
            return null;
        }

        Dictionary<string, Parameter> parameters = module.named_parameters(recurse: false).ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        RecurrentWeights[] recurrences = [.. parameters.Keys
            .Where(k => k.StartsWith("weight_hh", StringComparison.Ordinal) && parameters[k].requires_grad)
            .Order(StringComparer.Ordinal)
            .Select(k => k["weight_hh".Length..])
            .Select(suffix => new RecurrentWeights(suffix, parameters["weight_hh" + suffix],
                parameters.GetValueOrDefault("bias_ih" + suffix), parameters.GetValueOrDefault("bias_hh" + suffix)))];
        if (kind == RecurrentUnit.RnnTanh && parameters.TryGetValue(cell ? "weight_ih" : "weight_ih_l0", out Parameter? weightIh) && IsRelu(module, weightIh))
        {
            kind = RecurrentUnit.RnnRelu;
        }

        return new RecurrentLayer(name, module, kind, cell, recurrences);
    }

    /// <summary>TorchSharp keeps an Elman RNN's nonlinearity only in native code, so it is told by its output: a ReLU
    /// RNN's output is never negative, a tanh RNN's is for about half of the units on random inputs. One small forward
    /// through <c>forward()</c>, which runs no hooks, under no_grad.</summary>
    private static bool IsRelu(torch.nn.Module module, Parameter weightIh)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        torch.Tensor x = torch.randn([8, 4, weightIh.shape[1]], weightIh.dtype, weightIh.device).mul_(3);
        torch.Tensor y = module switch
        {
            RNN rnn => rnn.forward(x, null).Item1,
            RNNCell cell => cell.forward(x.flatten(0, 1), null),
            _ => throw new ArgumentException("Not an Elman RNN.", nameof(module)),
        };
        return y.min().to_type(torch.ScalarType.Float64).item<double>() >= 0;
    }
}
