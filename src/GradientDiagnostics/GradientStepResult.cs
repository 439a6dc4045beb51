namespace GradientDiagnostics;

/// <summary>What the monitor found at one step, and what the training loop should do.</summary>
public sealed class GradientStepResult
{
    internal GradientStepResult()
    {
    }

    /// <summary>The monitor step: the 0-based count of <c>Step()</c> calls.</summary>
    public long Step { get; internal init; }

    /// <summary>The L2 norm over all trainable gradients of the network, before any change; NaN or +Infinity when a
    /// gradient holds such values (never hidden).</summary>
    public double GlobalNorm { get; internal init; }

    /// <summary>The loss value given to <c>Step</c>, or <see langword="null"/> when none was given.</summary>
    public double? Loss { get; internal init; }

    /// <summary>True when the optimizer step must not run: the gradients or the loss are non-finite and
    /// <see cref="GradientMonitorOptions.SkipNonFiniteSteps"/> is on, or recovery (when enabled) refused the step or
    /// rolled back at it.</summary>
    public bool SkipStep { get; internal init; }

    /// <summary>Per-layer statistics, in forward order (index 0 is closest to the input).</summary>
    public IReadOnlyList<LayerGradientStatistics> Layers { get; internal init; } = [];

    /// <summary>The fitted per-layer gain of the output-gradient norms ‖∂L/∂y_l‖ across the probed layers in forward
    /// order (see <see cref="DepthProfile"/>): below 1 the back-propagated signal vanishes with depth, above 1 it
    /// explodes. Null when fewer than two layers were probed at this step.</summary>
    public double? DepthGain { get; internal init; }

    /// <summary>The number of layers whose output gradient ‖∂L/∂y‖ was probed at this step (0 on cheap steps or without
    /// probes); <see cref="DepthGain"/> is fitted across them.</summary>
    public int ProbedLayerCount { get; internal init; }

    /// <summary>g^d: <see cref="DepthGain"/> raised to the number of probed layer-to-layer steps
    /// (<see cref="ProbedLayerCount"/> − 1), the factor by which the back-propagated signal changes from the last probed
    /// layer to the first; the value the depth criteria of the vanishing and exploding detectors compare
    /// (<see cref="GradientMetricNames.DepthGainOverDepth"/>). Null when fewer than two layers were probed.</summary>
    public double? DepthGainOverDepth { get; internal init; }

    /// <summary>Whether this step measured everything (<see cref="GradientStepKind.Full"/>, every
    /// <see cref="GradientMonitorOptions.FullStatisticsInterval"/> steps, from step 0) or only the per-step check
    /// (<see cref="GradientStepKind.Cheap"/>).</summary>
    public GradientStepKind Kind { get; internal init; }

    /// <summary>How the gradient travels back through time in each recurrent layer the adapter can see, one
    /// <see cref="RecurrentTimeProfile"/> per layer (per stacked layer and direction of a fused module), in forward order;
    /// measured on the steps of <see cref="ThroughTimeOptions.Interval"/> (by default the full-statistics steps). Empty on
    /// steps that measure none, and without recurrent layers.</summary>
    public IReadOnlyList<RecurrentTimeProfile> TimeProfiles { get; internal init; } = [];

    /// <summary>The alerts raised at this step, already logged and sent to <c>AlertRaised</c>.</summary>
    public IReadOnlyList<GradientAlert> Alerts { get; internal init; } = [];

    /// <summary>The total gradient norm the clipping policy measured before acting, in the norm type of its first
    /// global-norm policy (<see cref="GradientClipping.ByGlobalNorm"/>'s normType, the value
    /// <c>clip_grad_norm_</c> returns; L2 otherwise); NaN or +Infinity on a non-finite step; null when no
    /// <see cref="GradientMonitorOptions.Clipping"/> is set.</summary>
    public double? NormBeforeClipping { get; internal init; }

    /// <summary>The same total norm after the clipping policy ran (equal to <see cref="NormBeforeClipping"/> when it did
    /// not act); null when no <see cref="GradientMonitorOptions.Clipping"/> is set.</summary>
    public double? NormAfterClipping { get; internal init; }

    /// <summary>The product of the coefficients the global-norm policies (ByGlobalNorm, AutoClip, ZScore) multiplied all
    /// gradients by at this step, in (0, 1]; 1 when none scaled them.</summary>
    public double ClippingCoefficient { get; internal init; } = 1;

    /// <summary>The loss scale S the gradients of this step were multiplied by (mixed-precision training scales the loss
    /// before <c>backward()</c>); every statistic, detector, alert and clipping decision of this result is in unscaled
    /// units, ‖g‖ = ‖g_scaled‖ / S. 1 without loss scaling.</summary>
    public double LossScale { get; internal init; } = 1;

    /// <summary>True when the clipping policy changed at least one gradient at this step.</summary>
    public bool ClippingActed { get; internal init; }

    /// <summary>Set on the step where recovery rolled back: the step of the snapshot whose parameters, buffers and
    /// optimizer state were restored, bit-exactly, before <c>Step()</c> returned (the step is then also
    /// <see cref="SkipStep"/>). Null on every other step, and always without recovery.</summary>
    public long? RolledBackToStep { get; internal init; }
}
