namespace GradientDiagnostics.TorchSharp;

/// <content>What the monitor watches: the layers it found at attach and which of them the layer-output probes see.</content>
public sealed partial class GradientMonitor
{
    /// <summary>The monitored layers' module paths, in forward order (index 0 closest to the input): managed modules in
    /// registration order, the layers inside TorchSharp's native Transformer modules in the order libtorch applies them. A
    /// layer is the group of trainable parameters of one innermost module path, also inside native modules:
    /// <c>encoder.layers.3.self_attn</c>, <c>encoder.layers.3.self_attn.out_proj</c>, <c>encoder.layers.3.norm1</c>,
    /// <c>encoder.layers.3.linear1</c> of an <c>nn.TransformerEncoder</c>.</summary>
    public IReadOnlyList<string> LayerNames => _analyzer.LayerNames;

    /// <summary>The layers whose outputs have a probe (a forward hook) with <see cref="GradientMonitorOptions.CaptureLayerOutputs"/>,
    /// in forward order; empty when the option is off. A probe sees its layer only when the module is called through
    /// <c>call(x)</c>: <see cref="CapturedLayers"/> says which hooks actually ran.</summary>
    public IReadOnlyList<string> ProbedLayers => _probes?.ProbedLayers ?? [];

    /// <summary>The probed layers whose forward hooks ran on the last full-statistics step (empty before the first one, or
    /// when the option is off). Empty after a full step while <see cref="ProbedLayers"/> is not means that no hook ran:
    /// most likely the model calls its children with <c>child.forward(x)</c> rather than <c>child.call(x)</c>.</summary>
    public IReadOnlyList<string> CapturedLayers => _probes?.CapturedLayers ?? [];

    /// <summary>With <see cref="GradientMonitorOptions.CaptureLayerOutputs"/>, the layers that have no probe, each with the
    /// reason: inside a native module (libtorch computes it in one native call), a module without a usable forward hook,
    /// or excluded by <see cref="GradientMonitorOptions.LayerOutputFilter"/>. Empty when the option is off.</summary>
    public IReadOnlyDictionary<string, string> UnprobedLayers => _probes?.Unprobed ?? System.Collections.ObjectModel.ReadOnlyDictionary<string, string>.Empty;
}
