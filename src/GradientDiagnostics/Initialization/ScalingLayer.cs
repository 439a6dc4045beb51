namespace GradientDiagnostics.Adapters;

/// <summary>What the initialization remedy knows about one layer before it starts.</summary>
/// <param name="Descriptor">Name, fan-in / fan-out and the following activation.</param>
/// <param name="Role">Whether its weights may be rescaled.</param>
/// <param name="WeightRms">The root mean square of its weight elements (its trainable parameters of rank ≥ 2) as found.</param>
public readonly record struct ScalingLayer(LayerDescriptor Descriptor, LayerScalingRole Role, double WeightRms);
