using System.Globalization;

namespace GradientDiagnostics;

/// <summary>
/// The single place where telemetry reads clipping facts (issue 4 adds them to <see cref="GradientStepResult"/> and
/// <see cref="GradientMonitorOptions"/>). Metrics, the summary line, JSON Lines, the HTML report and TensorBoard all
/// ask here, so wiring clipping in means changing <see cref="Coefficient"/> and <see cref="Threshold"/> only.
/// </summary>
internal static class ClippingTelemetry
{
    /// <summary>The factor in (0, 1] the step's gradients were multiplied by; null when clipping did not run.</summary>
    public static double? Coefficient(GradientStepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);

        // CLIPPING PLUG-IN POINT (issue 4): return the clip coefficient GradientStepResult will carry.
        return null;
    }

    /// <summary>The configured global-norm clip threshold, drawn on the report's global-norm chart; null when off.</summary>
    public static double? Threshold(GradientMonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // CLIPPING PLUG-IN POINT (issue 4): return the global-norm clipping policy's max norm when one is configured.
        return null;
    }

    /// <summary>Whether clipping changed the gradients at this step (coefficient below 1).</summary>
    public static bool Applied(GradientStepResult result) => Coefficient(result) is double c && c < 1;

    /// <summary>A short status for the summary line: <c>off</c>, <c>idle</c> or <c>clipped x&lt;coefficient&gt;</c>.</summary>
    public static string Status(GradientStepResult result) => Coefficient(result) switch
    {
        null => "off",
        double c when c < 1 => string.Create(CultureInfo.InvariantCulture, $"clipped x{c:G3}"),
        _ => "idle",
    };
}
