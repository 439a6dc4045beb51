namespace GradientDiagnostics;

/// <summary>
/// What an adapter measured for one layer at one step, in the framework-free form the analyzer consumes.
/// An adapter (for example GradientDiagnostics.TorchSharp) fills one per layer, in forward order.
/// </summary>
/// <param name="Gradient">The element statistics of the layer's trainable parameter gradients taken together.</param>
public readonly record struct LayerObservation(TensorStatistics Gradient);
