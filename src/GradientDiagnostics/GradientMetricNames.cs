namespace GradientDiagnostics;

/// <summary>The names used in <see cref="GradientAlert.Metric"/>: each is one measured quantity an alert reports. The
/// Meter's instruments have their own names, in <see cref="GradientTelemetryInstruments"/>.</summary>
public static class GradientMetricNames
{
    /// <summary>Mean absolute gradient element of a layer, Σ|g|/n over all its trainable parameters.</summary>
    public const string MeanAbsoluteGradient = "mean_abs_grad";

    /// <summary>A layer's gradient L2 norm divided by the largest (vanishing) or smallest (exploding) layer gradient L2
    /// norm among the layers between it and the loss.</summary>
    public const string NormRatioToLaterLayers = "norm_ratio_to_later_layers";

    /// <summary>g^d: the fitted per-layer gain g of the output-gradient norms ‖∂L/∂y_l‖ (see <see cref="DepthProfile"/>)
    /// raised to the number of probed layer-to-layer steps d; the factor by which the back-propagated signal changes
    /// from the last probed layer to the first. Dimensionless.</summary>
    public const string DepthGainOverDepth = "depth_gain_over_depth";

    /// <summary>The L2 norm of all gradients of the network taken together, before any clipping (the quantity the
    /// <see cref="GradientTelemetryInstruments.GlobalNorm"/> histogram records).</summary>
    public const string GlobalGradientNorm = "global_grad_norm";

    /// <summary>The z-score of the global gradient L2 norm against its exponential moving mean and standard deviation
    /// (ZClip, Kumar et al. 2025): (‖g‖ − μ_EMA) / σ_EMA. Dimensionless. Reported for spikes.</summary>
    public const string GlobalGradientNormZScore = "global_grad_norm_zscore";

    /// <summary>The global gradient L2 norm divided by the largest global norm of the first steps (Megatron-LM's
    /// "unexpectedly large" check). Dimensionless. Reported for spikes.</summary>
    public const string GlobalGradientNormRatioToEarlyMax = "global_grad_norm_ratio_to_early_max";

    /// <summary>Count of NaN and ±Infinity elements in a layer's gradients.</summary>
    public const string NonFiniteGradientCount = "non_finite_grad_count";

    /// <summary>Count of NaN and ±Infinity elements in a layer's weights (its trainable parameters).</summary>
    public const string NonFiniteWeightCount = "non_finite_weight_count";

    /// <summary>The loss scale S of a mixed-precision step (<see cref="GradientStepResult.LossScale"/>).</summary>
    public const string LossScale = "loss_scale";

    /// <summary>The loss value, reported when it is NaN or ±Infinity.</summary>
    public const string Loss = "loss";

    /// <summary>The fraction of recent steps, in [0, 1], on which the clipping policy changed the gradients.</summary>
    public const string ClippingActiveFraction = "clipping_active_fraction";
    /// <summary>The fraction of a layer's output elements in the saturated range of the activation that follows it, in [0, 1].</summary>
    public const string SaturatedFraction = "saturated_fraction";

    /// <summary>The fraction of a layer's units that were never active over the dead-unit window, in [0, 1].</summary>
    public const string DeadUnitFraction = "dead_unit_fraction";

    /// <summary>The largest divided by the smallest activation variance across the measured layers. Dimensionless.</summary>
    public const string ActivationVarianceRatio = "activation_variance_ratio";

    /// <summary>A layer's weight standard deviation (RMS of its parameters) divided by the Xavier or He expectation for
    /// its fan-in, fan-out and following activation. Dimensionless; 1 is the expectation.</summary>
    public const string WeightStdRatioToExpected = "weight_std_ratio_to_expected";

    /// <summary>‖Δw‖₂ / ‖w‖₂: the L2 norm of a layer's parameter change across one optimizer step over the L2 norm of its
    /// parameters. Dimensionless.</summary>
    public const string UpdateRatio = "update_ratio";

    /// <summary>The number of consecutive failing steps: not applied (refused or non-finite), or with a spiking loss.
    /// Reported by recovery.</summary>
    public const string ConsecutiveFailingSteps = "consecutive_failing_steps";

    /// <summary>The number of rollbacks within the recovery's rollback window, this one included. Reported when recovery gives up.</summary>
    public const string RollbacksInWindow = "rollbacks_in_window";

    /// <summary>The fraction of a 16-bit layer's gradient elements that are zero or subnormal as stored
    /// (<see cref="LayerGradientStatistics.UnderflowFraction"/>).</summary>
    public const string UnderflowFraction = "underflow_fraction";

    /// <summary>The fraction of a 16-bit layer's weight elements left bit-identical by the last optimizer step
    /// (<see cref="LayerGradientStatistics.LostUpdateFraction"/>).</summary>
    public const string LostUpdateFraction = "lost_update_fraction";
}
