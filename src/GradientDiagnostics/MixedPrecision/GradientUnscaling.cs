namespace GradientDiagnostics;

/// <summary>
/// Brings one step's observations from the scaled units of a loss-scaled backward pass to unscaled units. The statistics
/// are homogeneous in the gradient (Σg² of degree 2, Σ|g| and max|g| of degree 1), so dividing them by S² and S is exact
/// up to rounding: the read stays one pass over the stored (scaled) values, and counts (elements, zeros, non-finite) keep
/// their stored meaning, which is what underflow and overflow are judged on.
/// </summary>
internal static class GradientUnscaling
{
    /// <summary>The observation as if the loss had not been scaled by <paramref name="scale"/>; the same one when it is 1.</summary>
    public static LayerObservation Unscale(in LayerObservation observation, double scale)
    {
        if (scale == 1)
        {
            return observation;
        }

        return observation with
        {
            Gradient = Unscale(observation.Gradient, scale),
            // ∂(S·L)/∂y = S·∂L/∂y: the probes saw the scaled loss's backward pass too.
            OutputGradientNorm = observation.OutputGradientNorm / scale,
        };
    }

    /// <summary>The statistics of g / S from those of g.</summary>
    public static TensorStatistics Unscale(in TensorStatistics statistics, double scale) => statistics with
    {
        SumOfSquares = statistics.SumOfSquares / scale / scale,
        SumOfMagnitudes = statistics.SumOfMagnitudes / scale,
        MaxFiniteMagnitude = statistics.MaxFiniteMagnitude / scale,
    };
}
