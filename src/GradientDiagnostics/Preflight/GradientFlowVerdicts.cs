namespace GradientDiagnostics;

/// <summary>Judges a measured depth gain the way the monitor's depth criteria do, so the preflight and the monitor agree.</summary>
internal static class GradientFlowVerdicts
{
    /// <summary>g^(probed − 1) against the detectors' ratio thresholds; a criterion switched off
    /// (<see cref="VanishingOptions.DepthDecay"/>, <see cref="ExplodingOptions.DepthGrowth"/>) never fires.</summary>
    public static GradientFlowVerdict Classify(double? depthGain, int probedLayers, GradientMonitorOptions options)
    {
        if (depthGain is not double gain || probedLayers < 2 || !double.IsFinite(gain))
        {
            return GradientFlowVerdict.Unknown;
        }

        double overDepth = Math.Pow(gain, probedLayers - 1);
        if (options.Vanishing.Enabled && options.Vanishing.DepthDecay && overDepth < options.Vanishing.RelativeNormThreshold)
        {
            return GradientFlowVerdict.Vanishing;
        }

        return options.Exploding.Enabled && options.Exploding.DepthGrowth && overDepth > options.Exploding.RelativeNormThreshold
            ? GradientFlowVerdict.Exploding
            : GradientFlowVerdict.Healthy;
    }
}
