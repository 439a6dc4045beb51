namespace GradientDiagnostics;

/// <summary>What a detector may know at attach, when its options create it.</summary>
/// <param name="Layers">The monitored layers in forward order.</param>
/// <param name="ClippingConfigured">Whether a clipping policy runs at each step.</param>
internal sealed record DetectorContext(IReadOnlyList<LayerDescriptor> Layers, bool ClippingConfigured);
