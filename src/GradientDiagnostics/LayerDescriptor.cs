namespace GradientDiagnostics;

/// <summary>What is known about a layer before training: its name, shape and the activation that follows it.</summary>
/// <param name="Name">The layer's module path, for example <c>encoder.layers.3</c>.</param>
public sealed record LayerDescriptor(string Name)
{
    /// <summary>The number of inputs feeding one output unit (for a Linear layer, in_features; for a Conv layer,
    /// in_channels × kernel size); null when unknown.</summary>
    public int? FanIn { get; init; }

    /// <summary>The number of outputs each input feeds (for a Linear layer, out_features; for a Conv layer,
    /// out_channels × kernel size); null when unknown.</summary>
    public int? FanOut { get; init; }

    /// <summary>The activation applied to the layer's output, when the adapter could tell.</summary>
    /// <value>The default value is <see cref="ActivationKind.Unknown"/>.</value>
    public ActivationKind FollowingActivation { get; init; } = ActivationKind.Unknown;
}
