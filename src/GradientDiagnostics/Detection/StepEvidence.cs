namespace GradientDiagnostics;

/// <summary>Everything the detectors may look at for one step. Valid only during the step: detectors copy what they keep.</summary>
internal sealed class StepEvidence(
    long step,
    double? loss,
    double globalNorm,
    LayerGradientStatistics[] layers,
    LayerObservation[] observations,
    LayerDescriptor[] descriptors,
    double? depthGain,
    int probedLayers,
    GradientHistory history)
{
    public long Step { get; } = step;

    public double? Loss { get; } = loss;

    public double GlobalNorm { get; } = globalNorm;

    /// <summary>Per-layer statistics in forward order; the last is closest to the loss.</summary>
    public LayerGradientStatistics[] Layers { get; } = layers;

    /// <summary>Per-layer raw observations, in the order of <see cref="Layers"/>.</summary>
    public LayerObservation[] Observations { get; } = observations;

    /// <summary>Per-layer static descriptions, in the order of <see cref="Layers"/>.</summary>
    public LayerDescriptor[] Descriptors { get; } = descriptors;

    /// <summary>The fitted per-layer gain of the output-gradient norms (<see cref="DepthProfile.FitGain"/>); null when fewer than two layers were probed.</summary>
    public double? DepthGain { get; } = depthGain;

    /// <summary>The number of layers whose output gradient was probed at this step.</summary>
    public int ProbedLayers { get; } = probedLayers;

    /// <summary>The history up to, not including, this step.</summary>
    public GradientHistory History { get; } = history;

    /// <summary>g^d over the probed layers: the factor by which the back-propagated signal changes from the last probed
    /// layer to the first; null when not measured.</summary>
    public double? DepthGainOverDepth => DepthGain is double g && ProbedLayers >= 2 ? Math.Pow(g, ProbedLayers - 1) : null;
}
