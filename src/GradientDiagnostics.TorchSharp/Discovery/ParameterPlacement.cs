using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Where the monitored parameters were when the layers were discovered: each wrapper, its native tensor, dtype and
/// device. <c>model.to(device)</c>, <c>model.to(ScalarType)</c> and <c>model.half()</c> replace a managed module's
/// parameter wrappers (the old ones are disposed: "Tensor invalid -- empty handle" on any later use) or, for native
/// modules (<c>Embedding</c>, the Transformer modules), keep the wrapper and change its tensor's dtype or device in place.
/// <see cref="FindChange"/> notices both before anything reads a gradient.
/// </summary>
internal sealed class ParameterPlacement
{
    private readonly (string Layer, Parameter Parameter, IntPtr Identity, torch.ScalarType Type, DeviceType Device, int DeviceIndex)[] _recorded;

    public ParameterPlacement(ModuleLayer[] layers)
    {
        _recorded = [.. layers.SelectMany(l => l.Parameters.Select(p =>
            (l.Name, p, LayerDiscovery.TensorIdentity(p), p.dtype, p.device_type, p.device_index)))];
    }

    /// <summary>What changed since discovery, in words (for the first changed parameter), or null when nothing did. Costs
    /// a managed check and three native property reads per parameter, no allocation.</summary>
    public string? FindChange()
    {
        foreach ((string layer, Parameter parameter, IntPtr identity, torch.ScalarType type, DeviceType device, int index) in _recorded)
        {
            if (parameter.IsInvalid)
            {
                return $"a parameter of layer {layer} was replaced (its old tensor was disposed, as model.to(...) and model.half() do)";
            }

            if (LayerDiscovery.TensorIdentity(parameter) != identity)
            {
                return $"a parameter of layer {layer} now refers to another tensor";
            }

            if (parameter.dtype != type)
            {
                return $"a parameter of layer {layer} changed dtype from {type} to {parameter.dtype}";
            }

            if (parameter.device_type != device || parameter.device_index != index)
            {
                return $"a parameter of layer {layer} moved from {device}:{index} to {parameter.device_type}:{parameter.device_index}";
            }
        }

        return null;
    }
}
