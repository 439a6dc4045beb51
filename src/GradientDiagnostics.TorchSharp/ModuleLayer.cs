using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>A monitored layer: a module that owns trainable parameters, named by its module path.</summary>
internal sealed class ModuleLayer(LayerDescriptor descriptor, torch.nn.Module module, Parameter[] parameters)
{
    public string Name => Descriptor.Name;

    /// <summary>What the core is told about the layer: name, fan-in/out, following activation.</summary>
    public LayerDescriptor Descriptor { get; } = descriptor;

    public torch.nn.Module Module { get; } = module;

    /// <summary>The layer's own trainable parameters; a parameter shared with an earlier layer belongs to that layer only.</summary>
    public Parameter[] Parameters { get; } = parameters;
}
