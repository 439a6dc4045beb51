namespace GradientDiagnostics;

/// <summary>
/// What a gradient-flow preflight measured on one forward and one backward pass, before any training step: the depth
/// gain, the verdict, per-layer statistics and the alerts the detectors would raise at step 0.
/// </summary>
public sealed class GradientFlowCheckResult
{
    internal GradientFlowCheckResult()
    {
    }

    /// <summary>The fitted per-layer gain of the output-gradient norms ‖∂L/∂y_l‖ across the probed layers in forward order
    /// (<see cref="DepthProfile.FitGain"/>, as <see cref="GradientStepResult.DepthGain"/>): below 1 the back-propagated
    /// signal shrinks towards the input, above 1 it grows. Null when fewer than two layers were probed.</summary>
    public double? DepthGain { get; internal init; }

    /// <summary>The verdict on <see cref="DepthGain"/> over the probed depth, with the detectors' thresholds.</summary>
    public GradientFlowVerdict Verdict { get; internal init; }

    /// <summary>Per-layer gradient statistics (∂L/∂θ) and output-gradient norms (‖∂L/∂y‖, null for a layer that was not
    /// probed), in forward order (index 0 is closest to the input).</summary>
    public IReadOnlyList<LayerGradientStatistics> Layers { get; internal init; } = [];

    /// <summary>The alerts the detectors raise on this single pass, each with its likely causes and fixes. Every
    /// persistent detector is judged on this one step (persistence 1 of 1), since a preflight has no history.</summary>
    public IReadOnlyList<GradientAlert> Findings { get; internal init; } = [];

    /// <summary>The number of layers whose output gradient was probed.</summary>
    public int ProbedLayerCount { get; internal init; }

    /// <summary>The layers (module paths) whose output gradient could not be seen: modules without forward hooks, or
    /// modules their parent calls through <c>forward()</c> instead of <c>call()</c>. They are left out of
    /// <see cref="DepthGain"/>.</summary>
    public IReadOnlyList<string> UnprobedLayers { get; internal init; } = [];

    /// <summary>What float16 would do to each layer's gradients, from the same float32 pass: per layer the elements that
    /// would flush to 0 or turn subnormal, and the loss-scale range that keeps every layer out of underflow without
    /// overflow (see <see cref="Float16GradientCheck"/> for the rule).</summary>
    public Float16GradientCheck Float16 { get; internal init; } = new([], null, null);

    /// <summary>The loss the closure returned.</summary>
    public double Loss { get; internal init; }
}
