using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>Tells, per discovered layer, whether the initialization remedy may rescale its weights (see
/// <see cref="LayerScalingRole"/>), from the module's type and the module that follows it among its siblings.</summary>
internal static class LayerRoles
{
    public static LayerScalingRole[] Classify(torch.nn.Module root, ModuleLayer[] layers)
    {
        var modules = new Dictionary<string, torch.nn.Module>(StringComparer.Ordinal) { [string.Empty] = root };
        foreach ((string name, torch.nn.Module module) in root.named_modules())
        {
            modules.TryAdd(name, module);
        }

        return [.. layers.Select(layer => Classify(layer, modules))];
    }

    /// <summary>Whether a module is a normalization layer, by its TorchSharp type name.</summary>
    public static bool IsNormalization(torch.nn.Module module)
    {
        string type = module.GetType().Name;
        return type.StartsWith("BatchNorm", StringComparison.Ordinal) || type.StartsWith("InstanceNorm", StringComparison.Ordinal) ||
            type is "LayerNorm" or "GroupNorm" or "LocalResponseNorm" or "RMSNorm";
    }

    private static LayerScalingRole Classify(ModuleLayer layer, Dictionary<string, torch.nn.Module> modules)
    {
        if (IsNormalization(layer.Module))
        {
            return LayerScalingRole.Normalization;
        }

        if (layer.Module is not (Linear or Convolution) || !layer.Parameters.Any(p => p.dim() >= 2))
        {
            return LayerScalingRole.NotAWeightLayer;
        }

        return layer.Name != LayerDiscovery.RootLayerName && NextIsNormalization(layer.Name, modules)
            ? LayerScalingRole.FeedsNormalization
            : LayerScalingRole.Rescalable;
    }

    /// <summary>Whether the sibling registered after the module at <paramref name="path"/> (skipping dropout) is a
    /// normalization layer; for the last child of a Sequential, whether the module after the Sequential is.</summary>
    private static bool NextIsNormalization(string path, Dictionary<string, torch.nn.Module> modules)
    {
        int dot = path.LastIndexOf('.');
        string parentPath = dot < 0 ? string.Empty : path[..dot];
        string name = dot < 0 ? path : path[(dot + 1)..];
        if (!modules.TryGetValue(parentPath, out torch.nn.Module? parent))
        {
            return false;
        }

        (string Name, torch.nn.Module Module)[] siblings = [.. parent.named_children()];
        int index = Array.FindIndex(siblings, s => s.Name == name);
        for (int i = index + 1; index >= 0 && i < siblings.Length; i++)
        {
            string type = siblings[i].Module.GetType().Name;
            if (!type.StartsWith("Dropout", StringComparison.Ordinal))
            {
                return IsNormalization(siblings[i].Module);
            }
        }

        return parent is Sequential && parentPath.Length > 0 && NextIsNormalization(parentPath, modules);
    }
}
