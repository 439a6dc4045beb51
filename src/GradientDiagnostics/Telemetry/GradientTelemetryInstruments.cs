namespace GradientDiagnostics;

/// <summary>
/// The names, units and histogram bucket advice of the metrics the monitor publishes through
/// <see cref="System.Diagnostics.Metrics"/> (see <see cref="TelemetryOptions"/>). Names are lowercase and
/// dotted, start with <c>gradient_diagnostics.</c>, and units are UCUM. Tags have bounded cardinality: alert kind and
/// severity only, plus the layer name on the opt-in per-layer instruments.
/// </summary>
public static class GradientTelemetryInstruments
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> every instrument belongs to.</summary>
    public const string MeterName = "GradientDiagnostics";

    /// <summary>Histogram of the L2 norm of all gradients of the network at each step, before any clipping
    /// (unit <c>1</c>, dimensionless). Non-finite norms are not recorded: they are counted by
    /// <see cref="SkippedSteps"/> and <see cref="Alerts"/>.</summary>
    public const string GlobalNorm = "gradient_diagnostics.global_norm";

    /// <summary>Counter of monitored steps (unit <c>{step}</c>).</summary>
    public const string Steps = "gradient_diagnostics.steps";

    /// <summary>Counter of alerts (unit <c>{alert}</c>), tagged <see cref="AlertKindTag"/> and
    /// <see cref="AlertSeverityTag"/>.</summary>
    public const string Alerts = "gradient_diagnostics.alerts";

    /// <summary>Counter of steps the monitor marked <see cref="GradientStepResult.SkipStep"/> (unit <c>{step}</c>).</summary>
    public const string SkippedSteps = "gradient_diagnostics.skipped_steps";

    /// <summary>Counter of steps at which gradient clipping changed the gradients (unit <c>{step}</c>).</summary>
    public const string ClippedSteps = "gradient_diagnostics.clipped_steps";

    /// <summary>Histogram of the clip coefficient, the factor in (0, 1] the gradients were multiplied by, at steps
    /// where clipping ran (unit <c>1</c>).</summary>
    public const string ClipCoefficient = "gradient_diagnostics.clip_coefficient";

    /// <summary>Gauge of the loss scale S of the last step (unit <c>1</c>), recorded from the first step whose scale is not
    /// 1 (mixed precision with loss scaling, <see cref="GradientStepResult.LossScale"/>): a dynamic scale halves at each
    /// overflow and doubles after each growth interval of clean steps.</summary>
    public const string LossScale = "gradient_diagnostics.loss_scale";

    /// <summary>Histogram of the monitor's own time per step, in seconds (unit <c>s</c>): from the start of
    /// <c>Step()</c> (or <c>GradientAnalyzer.Analyze</c>) to the result, telemetry excluded.</summary>
    public const string Overhead = "gradient_diagnostics.overhead";

    /// <summary>Opt-in (<see cref="TelemetryOptions.PerLayerMetrics"/>) histogram of one layer's gradient
    /// L2 norm (unit <c>1</c>), tagged <see cref="LayerTag"/>; at most
    /// <see cref="TelemetryOptions.MaxPerLayerMetricLayers"/> layers.</summary>
    public const string LayerGradientNorm = "gradient_diagnostics.layer.gradient_norm";

    /// <summary>The tag holding a <see cref="GradientAlertKind"/> name, for example <c>Vanishing</c>.</summary>
    public const string AlertKindTag = "gradient_diagnostics.alert.kind";

    /// <summary>The tag holding a <see cref="GradientAlertSeverity"/> name, for example <c>Warning</c>.</summary>
    public const string AlertSeverityTag = "gradient_diagnostics.alert.severity";

    /// <summary>The tag holding a layer's module path on the per-layer instruments.</summary>
    public const string LayerTag = "gradient_diagnostics.layer";

    /// <summary>The explicit bucket boundaries advised for gradient-norm histograms: one per decade from 1e-8 to 1e8.
    /// Gradient norms span many orders of magnitude (a vanishing layer sits at 1e-15, an exploding step above 1e4),
    /// so linear buckets would put nearly everything in one bucket.</summary>
    public static IReadOnlyList<double> NormBucketBoundaries { get; } = Decades(-8, 8);

    /// <summary>The explicit bucket boundaries advised for <see cref="ClipCoefficient"/>: 1-3 steps per decade from
    /// 1e-4 to 1.</summary>
    public static IReadOnlyList<double> ClipCoefficientBucketBoundaries { get; } = [1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1];

    /// <summary>The explicit bucket boundaries advised for <see cref="Overhead"/>, in seconds: 1-3 steps per decade
    /// from 10 µs to 10 s.</summary>
    public static IReadOnlyList<double> OverheadBucketBoundaries { get; } =
        [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];

    private static double[] Decades(int fromExponent, int toExponent) =>
        [.. Enumerable.Range(fromExponent, toExponent - fromExponent + 1).Select(e => Math.Pow(10, e))];
}
