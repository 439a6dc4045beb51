namespace GradientDiagnostics;

/// <summary>Everything the detectors may look at for one step.</summary>
internal sealed class StepEvidence(long step, double? loss, double globalNorm, LayerGradientStatistics[] layers)
{
    public long Step { get; } = step;

    public double? Loss { get; } = loss;

    public double GlobalNorm { get; } = globalNorm;

    /// <summary>Per-layer statistics in forward order; the last is closest to the loss.</summary>
    public LayerGradientStatistics[] Layers { get; } = layers;
}
