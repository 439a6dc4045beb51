namespace GradientDiagnostics;

/// <summary>The names used in <see cref="GradientAlert.Metric"/>: each is one measured quantity.</summary>
public static class GradientMetricNames
{
    /// <summary>Mean absolute gradient element of a layer, Σ|g|/n over all its trainable parameters.</summary>
    public const string MeanAbsoluteGradient = "mean_abs_grad";

    /// <summary>A layer's gradient L2 norm divided by the largest layer gradient L2 norm among the layers between it and the loss.</summary>
    public const string NormRatioToLaterLayers = "norm_ratio_to_later_layers";

    /// <summary>The L2 norm of all gradients of the network taken together, before any clipping.</summary>
    public const string GlobalNorm = "global_grad_norm";

    /// <summary>Count of NaN and ±Infinity elements in a layer's gradients.</summary>
    public const string NonFiniteGradientCount = "non_finite_grad_count";

    /// <summary>The loss value, reported when it is NaN or ±Infinity.</summary>
    public const string Loss = "loss";

    /// <summary>The fraction of recent steps, in [0, 1], on which the clipping policy changed the gradients.</summary>
    public const string ClippingActiveFraction = "clipping_active_fraction";
}
