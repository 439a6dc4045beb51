using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>Finds a model's layers: the modules that own trainable parameters, in registration order.</summary>
internal static class LayerDiscovery
{
    /// <summary>The name of the root module's own parameters' layer, when the root owns parameters directly.</summary>
    public const string RootLayerName = "(root)";

    /// <summary>
    /// Walks the module tree depth-first in registration order (the order children were registered, which for
    /// <c>Sequential</c> and idiomatic custom modules is forward order). TorchSharp's <c>named_modules()</c> lists all
    /// children before any grandchild, so it is not used. A parameter shared by several modules (tied weights) is
    /// counted once, in the first module that owns it; frozen parameters (requires_grad = false) are left out.
    /// </summary>
    public static ModuleLayer[] Discover(torch.nn.Module root)
    {
        var layers = new List<ModuleLayer>();
        var seen = new HashSet<IntPtr>();
        Visit(root, string.Empty, layers, seen);
        return [.. layers];
    }

    private static void Visit(torch.nn.Module module, string path, List<ModuleLayer> layers, HashSet<IntPtr> seen)
    {
        var own = new List<Parameter>();
        foreach ((string _, Parameter parameter) in module.named_parameters(recurse: false))
        {
            if (parameter.requires_grad && seen.Add(parameter.Handle))
            {
                own.Add(parameter);
            }
        }

        if (own.Count > 0)
        {
            layers.Add(new ModuleLayer(path.Length == 0 ? RootLayerName : path, module, [.. own]));
        }

        foreach ((string name, torch.nn.Module child) in module.named_children())
        {
            Visit(child, path.Length == 0 ? name : $"{path}.{name}", layers, seen);
        }
    }
}
