namespace GradientDiagnostics.TorchSharp;

/// <summary>Names modules the way the monitor names layers, so clipping policies can exclude modules, not positions.</summary>
public static class ModulePathExtensions
{
    /// <summary>
    /// The module paths of <paramref name="modules"/> inside <paramref name="model"/> (for example <c>head</c> or
    /// <c>encoder.layers.3</c>), the names the monitor gives layers. Pass them to the exclusions of
    /// <see cref="GradientClipping.Adaptive"/> or <see cref="GradientClipping.ByLayerNorm"/>, for example
    /// <c>GradientClipping.Adaptive(excludedLayers: model.ModulePaths(head))</c> to leave the classifier head alone as NFNets do.
    /// </summary>
    /// <param name="model">The model the monitor is attached to.</param>
    /// <param name="modules">Modules of <paramref name="model"/>, found by reference.</param>
    /// <returns>One path per module, in the same order.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A module is not part of <paramref name="model"/>, or is the model itself.</exception>
    public static string[] ModulePaths(this torch.nn.Module model, params torch.nn.Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(modules);
        var paths = new Dictionary<torch.nn.Module, string>(ReferenceEqualityComparer.Instance);
        Collect(model, string.Empty, paths);
        return [.. modules.Select(m => m is not null && paths.TryGetValue(m, out string? path)
            ? path
            : throw new ArgumentException($"The module '{m?.GetName()}' is not a submodule of '{model.GetName()}'.", nameof(modules)))];
    }

    private static void Collect(torch.nn.Module module, string path, Dictionary<torch.nn.Module, string> paths)
    {
        foreach ((string name, torch.nn.Module child) in module.named_children())
        {
            string childPath = path.Length == 0 ? name : $"{path}.{name}";
            paths.TryAdd(child, childPath);
            Collect(child, childPath, paths);
        }
    }
}
