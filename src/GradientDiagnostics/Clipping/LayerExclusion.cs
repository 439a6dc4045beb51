namespace GradientDiagnostics;

/// <summary>Layers a per-layer or unit-wise policy leaves alone, named by module path. A path excludes the layer with
/// that name and every layer under it (<c>head</c> excludes <c>head</c> and <c>head.fc</c>), never by position.</summary>
internal sealed class LayerExclusion
{
    private readonly string[] _paths;

    public LayerExclusion(string[]? paths)
    {
        _paths = paths is null ? [] : [.. paths];
        for (int i = 0; i < _paths.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(_paths[i]))
            {
                throw new ArgumentException("An excluded layer path must not be null or empty.", nameof(paths));
            }
        }
    }

    /// <summary>One flag per layer: true when the layer is excluded.</summary>
    /// <exception cref="ArgumentException">A path matches no layer (most often a typo).</exception>
    public bool[] Resolve(IReadOnlyList<string> layerNames)
    {
        var excluded = new bool[layerNames.Count];
        foreach (string path in _paths)
        {
            bool matched = false;
            for (int i = 0; i < layerNames.Count; i++)
            {
                string name = layerNames[i];
                if (name == path || (name.StartsWith(path, StringComparison.Ordinal) && name.Length > path.Length && name[path.Length] == '.'))
                {
                    excluded[i] = true;
                    matched = true;
                }
            }

            if (!matched)
            {
                throw new ArgumentException(
                    $"The clipping policy excludes '{path}', but no monitored layer has that module path or lies under it. Layers: " +
                        $"{string.Join(", ", layerNames)}.",
                    nameof(layerNames));
            }
        }

        return excluded;
    }
}
