using GradientDiagnostics.TorchSharp.ThroughTime;
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
        RecurrenceParameters[] recurrences = [.. parameters.Keys
            .Where(k => k.StartsWith("weight_hh", StringComparison.Ordinal) && parameters[k].requires_grad)
            .Order(StringComparer.Ordinal)
            .Select(k => k["weight_hh".Length..])
            .Select(suffix => new RecurrenceParameters(suffix, parameters["weight_hh" + suffix],
                parameters.GetValueOrDefault("bias_ih" + suffix), parameters.GetValueOrDefault("bias_hh" + suffix)))];
        if (kind == RecurrentUnit.RnnTanh && IsRelu(module))
        {
            kind = RecurrentUnit.RnnRelu;
        }

        return new RecurrentLayer(name, module, kind, cell, recurrences);
    }

    /// <summary>TorchSharp keeps an Elman RNN's nonlinearity only in native code; the time-profile measurement's
    /// <see cref="RnnNonlinearity"/> tells it from one step of the module's own forward on a fixed input.</summary>
    private static bool IsRelu(torch.nn.Module module) =>
        (module is RNN rnn ? RnnNonlinearity.OfFused(rnn, new FusedParameters(rnn)) : RnnNonlinearity.OfCell(module)) == "RNN_RELU";
}
