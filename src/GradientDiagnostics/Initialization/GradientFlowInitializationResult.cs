namespace GradientDiagnostics;

/// <summary>
/// What an initialization remedy did: the depth gain before and after, the factor applied to each layer's weights,
/// whether the activation itself prevents a healthy gain, and a message a person can read.
/// </summary>
public sealed class GradientFlowInitializationResult
{
    internal GradientFlowInitializationResult()
    {
    }

    /// <summary>The depth gain (<see cref="DepthProfile.FitGain"/> of ‖∂L/∂y‖ across the probed layers) measured on the
    /// weights as they were; null when fewer than two layers were probed.</summary>
    public double? DepthGainBefore { get; internal init; }

    /// <summary>The depth gain measured on the rescaled weights, with the same forward closure; null when fewer than two
    /// layers were probed.</summary>
    public double? DepthGainAfter { get; internal init; }

    /// <summary>One entry per layer, in forward order: the factor applied to its weights and why.</summary>
    public IReadOnlyList<LayerWeightScale> Layers { get; internal init; } = [];

    /// <summary>True when the gain could not be brought near 1 because the activation caps it at a useful weight scale:
    /// layers followed by a sigmoid reached the largest weight scale the remedy applies (twice the Xavier scale) with a
    /// per-layer gain still well below 1. <see cref="Message"/> names the activation and the real fix.</summary>
    public bool LimitedByActivation { get; internal init; }

    /// <summary>The number of measured correction rounds run after the analytic start (each one forward and one backward
    /// pass).</summary>
    public int Iterations { get; internal init; }

    /// <summary>The layers (module paths) whose output gradient could not be seen; they are rescaled from the analytic
    /// init only, or not at all, and left out of the depth gains.</summary>
    public IReadOnlyList<string> UnprobedLayers { get; internal init; } = [];

    /// <summary>What was done and what it achieved, in plain words.</summary>
    public string Message { get; internal init; } = string.Empty;
}
