using System.Globalization;

namespace GradientDiagnostics.Adapters;

/// <summary>
/// The single place where telemetry reads clipping facts from <see cref="GradientStepResult"/> and
/// <see cref="GradientMonitorOptions"/>: metrics, the summary line, JSON Lines, the HTML report and TensorBoard all ask here,
/// and so should an adapter's own telemetry output, so every output shows the same clipping facts.
/// </summary>
public static class ClippingTelemetry
{
    /// <summary>The factor in (0, 1] the step's gradients were multiplied by; null when clipping did not run.</summary>
    /// <param name="result">The analyzed step.</param>
    /// <returns>The global clipping coefficient, or null when no clipping policy ran at this step.</returns>
    public static double? Coefficient(GradientStepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.NormBeforeClipping is null ? null : result.ClippingCoefficient;
    }

    /// <summary>The configured global-norm clip threshold, drawn on the report's global-norm chart; null when off.</summary>
    /// <param name="options">The monitor's options.</param>
    /// <returns>The global L2 norm threshold, or null when the policy has none.</returns>
    public static double? Threshold(GradientMonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Clipping?.GlobalNormThreshold;
    }

    /// <summary>Whether clipping changed the gradients at this step (a scaling below 1, a clamp or a unit-wise clip).</summary>
    /// <param name="result">The analyzed step.</param>
    /// <returns><see cref="GradientStepResult.ClippingActed"/>.</returns>
    public static bool Applied(GradientStepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.ClippingActed;
    }

    /// <summary>A short status for the summary line: <c>off</c>, <c>idle</c>, <c>clipped</c> (a clamp or unit-wise clip) or
    /// <c>clipped x&lt;coefficient&gt;</c>.</summary>
    /// <param name="result">The analyzed step.</param>
    /// <returns>The status, invariant culture.</returns>
    public static string Status(GradientStepResult result) => Coefficient(result) switch
    {
        null => "off",
        double c when c < 1 => string.Create(CultureInfo.InvariantCulture, $"clipped x{MessageNumber.Format(c)}"),
        _ when result.ClippingActed => "clipped",
        _ => "idle",
    };
}
