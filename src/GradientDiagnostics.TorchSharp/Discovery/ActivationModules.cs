namespace GradientDiagnostics.TorchSharp;

/// <summary>Maps TorchSharp activation modules to the core's <see cref="ActivationKind"/>.</summary>
internal static class ActivationModules
{
    /// <summary>The activation among the siblings starting at <paramref name="start"/>, skipping dropout (which leaves
    /// the distribution the activation sees unchanged in expectation); Unknown when the first other sibling is not an
    /// activation.</summary>
    public static ActivationKind KindOfNext((string Name, torch.nn.Module Module)[] siblings, int start)
    {
        for (int i = start; i < siblings.Length; i++)
        {
            string type = siblings[i].Module.GetType().Name;
            if (!type.StartsWith("Dropout", StringComparison.Ordinal) && !type.StartsWith("AlphaDropout", StringComparison.Ordinal))
            {
                return KindOf(type);
            }
        }

        return ActivationKind.Unknown;
    }

    /// <summary>The kind of an activation module, by its TorchSharp type name.</summary>
    public static ActivationKind KindOf(string typeName) => typeName switch
    {
        "Identity" => ActivationKind.Identity,
        "Sigmoid" => ActivationKind.Sigmoid,
        "Tanh" => ActivationKind.Tanh,
        "ReLU" or "ReLU6" => ActivationKind.ReLU,
        "LeakyReLU" or "PReLU" or "RReLU" or "ELU" or "SELU" or "CELU" => ActivationKind.LeakyReLU,
        "GELU" or "SiLU" or "Mish" => ActivationKind.GELU,
        _ => ActivationKind.Unknown,
    };

    /// <summary>Whether units are "active" when the activation's input is above zero (ReLU family and GELU-like).</summary>
    public static bool HasActiveUnits(ActivationKind kind) => kind is ActivationKind.ReLU or ActivationKind.LeakyReLU or ActivationKind.GELU;
}
