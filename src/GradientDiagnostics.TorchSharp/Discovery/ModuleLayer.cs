using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>A monitored layer: the trainable parameters of one innermost module path, named by that path.</summary>
/// <param name="descriptor">What the core is told about the layer.</param>
/// <param name="module">The managed module that owns the parameters: the layer's own module, or, for a layer inside a
/// native composite module (<c>encoder.layers.3.self_attn</c> inside <c>nn.TransformerEncoder</c>), that native module.</param>
/// <param name="parameters">The layer's own trainable parameters.</param>
/// <param name="ownsModuleOutput">Whether <paramref name="module"/>'s output is this layer's output, so a forward hook on
/// the module observes the layer.</param>
internal sealed class ModuleLayer(LayerDescriptor descriptor, torch.nn.Module module, Parameter[] parameters, bool ownsModuleOutput = true)
{
    public string Name => Descriptor.Name;

    /// <summary>What the core is told about the layer: name, fan-in/out, following activation.</summary>
    public LayerDescriptor Descriptor { get; } = descriptor;

    public torch.nn.Module Module { get; } = module;

    /// <summary>The layer's own trainable parameters; a parameter shared with an earlier layer belongs to that layer only.</summary>
    public Parameter[] Parameters { get; } = parameters;

    /// <summary>False for the inner layers of a native composite module: libtorch runs them inside one native call, so
    /// no managed module exists whose hook would see their outputs. True for every managed module's layer and for the
    /// last layer of a native composite, whose output is the composite's output.</summary>
    public bool OwnsModuleOutput { get; } = ownsModuleOutput;

    /// <summary>The path of the native composite module that holds this layer, or null for a managed module's layer.</summary>
    public string? NativeOwnerPath { get; init; }
}
