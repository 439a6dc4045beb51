using System.Reflection;
using TorchSharp.Modules;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <summary>
/// A fused recurrent module's layout and weights. TorchSharp 0.107 keeps the layout in private fields of <c>RNN</c>,
/// <c>LSTM</c> and <c>GRU</c> (<c>_num_layers</c>, <c>_bidirectional</c>, <c>_batch_first</c>; the constructor arguments);
/// they are read once by reflection. The weights are read by libtorch's names (<c>weight_ih_l{k}</c>,
/// <c>weight_hh_l{k}</c>, <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c>, with <c>_reverse</c>) at each measuring step, so a model
/// moved after attach is read where it now lives.
/// </summary>
internal sealed class FusedParameters
{
    private readonly torch.nn.Module _module;
    private Dictionary<string, Tensor> _byName = [];

    public FusedParameters(torch.nn.Module module)
    {
        _module = module;
        Layers = (int)Field<long>(module, "_num_layers");
        Directions = Field<bool>(module, "_bidirectional") ? 2 : 1;
        BatchFirst = Field<bool>(module, "_batch_first");
        Unit = module switch { LSTM => "LSTM", GRU => "GRU", _ => "RNN" };
    }

    /// <summary>The number of stacked layers.</summary>
    public int Layers { get; }

    /// <summary>2 for a bidirectional module, else 1.</summary>
    public int Directions { get; }

    /// <summary>Whether the input and output are (batch, seq, feature).</summary>
    public bool BatchFirst { get; }

    /// <summary><c>LSTM</c>, <c>GRU</c>, or <c>RNN</c> for a vanilla module (whose nonlinearity <see cref="RnnNonlinearity"/> finds).</summary>
    public string Unit { get; }

    /// <summary>Whether a projection (<c>weight_hr_l{k}</c>, an LSTM's proj_size) is present: the re-run does not model it.</summary>
    public bool HasProjection => _byName.Keys.Any(k => k.StartsWith("weight_hr", StringComparison.Ordinal));

    /// <summary>Reads the module's parameters, in the caller's dispose scope.</summary>
    public void Read() => _byName = _module.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);

    /// <summary>One layer and direction's W_ih, W_hh, b_ih, b_hh (biases null when the module has none).</summary>
    public (Tensor Ih, Tensor Hh, Tensor? BiasIh, Tensor? BiasHh) Of(int layer, bool reverse)
    {
        string suffix = $"l{layer}{(reverse ? "_reverse" : "")}";
        return (_byName[$"weight_ih_{suffix}"], _byName[$"weight_hh_{suffix}"],
            _byName.GetValueOrDefault($"bias_ih_{suffix}"), _byName.GetValueOrDefault($"bias_hh_{suffix}"));
    }

    /// <summary>Forgets the parameters read (their wrappers belong to the scope that read them).</summary>
    public void Clear() => _byName = [];

    private static T Field<T>(object module, string name)
    {
        for (Type? type = module.GetType(); type is not null; type = type.BaseType)
        {
            if (type.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) is FieldInfo field)
            {
                return (T)field.GetValue(module)!;
            }
        }

        throw new InvalidOperationException(
            $"{module.GetType().Name} has no field {name}: this TorchSharp version lays out its recurrent modules differently.");
    }
}
