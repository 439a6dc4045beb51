namespace GradientDiagnostics.Adapters;

/// <summary>What an adapter measured in one preflight pass (<see cref="IGradientFlowPass.Measure"/>).</summary>
public sealed class GradientFlowMeasurement
{
    /// <summary>One observation per layer, in the order of the layers given to <c>GradientFlowPreflight.Check</c>,
    /// with <see cref="LayerObservation.OutputGradientNorm"/> set for every probed layer.</summary>
    public required ReadOnlyMemory<LayerObservation> Observations { get; init; }

    /// <summary>The pass's loss; null when the pass has none.</summary>
    public double? Loss { get; init; }

    /// <summary>The layers whose output gradient could not be probed; empty when every layer was.</summary>
    public IReadOnlyList<string> UnprobedLayers { get; init; } = [];

    /// <summary>Per layer, in the same order, its gradient elements as float32 on the host, for the float16 check
    /// (<see cref="GradientFlowCheckResult.Float16"/>); empty to skip that check.</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> Gradients { get; init; } = [];
}
