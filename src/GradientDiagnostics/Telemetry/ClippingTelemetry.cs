namespace GradientDiagnostics;

/// <summary>
/// The single place where telemetry reads clipping facts (issue 4 adds them to <see cref="GradientStepResult"/> and
/// <see cref="GradientMonitorOptions"/>). Metrics, the summary line, JSON Lines, the HTML report and TensorBoard all
/// ask here, so wiring clipping in is a change to these three members only.
/// </summary>
internal static class ClippingTelemetry
{
    // CLIPPING PLUG-IN POINT: return the step's clip coefficient (the factor in (0, 1] the gradients were multiplied
    // by) once GradientStepResult carries it; null means clipping did not run at this step.
    public static double? Coefficient(GradientStepResult result) => result is null ? null : null;

    // CLIPPING PLUG-IN POINT: whether clipping changed the gradients at this step (coefficient below 1).
    public static bool Applied(GradientStepResult result) => Coefficient(result) is double c && c < 1;

    // CLIPPING PLUG-IN POINT: the configured global-norm clip threshold, drawn on the report's global-norm chart.
    public static double? Threshold(GradientMonitorOptions options) => options is null ? null : null;

    /// <summary>A short status for the summary line: <c>off</c>, <c>idle</c> or <c>clipped ×c</c>.</summary>
    public static string Status(GradientStepResult result) => Coefficient(result) switch
    {
        null => "off",
        double c when c < 1 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"clipped x{c:G3}"),
        _ => "idle",
    };
}
