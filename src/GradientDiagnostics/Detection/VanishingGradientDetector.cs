using System.Globalization;

namespace GradientDiagnostics;

/// <summary>Fires when gradients are absolutely tiny, or shrink on their way from the loss to a layer.</summary>
internal sealed class VanishingGradientDetector(VanishingGradientOptions options) : IGradientDetector
{
    private readonly AlertGate _absolute = new(options);
    private readonly AlertGate _relative = new(options);

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        LayerGradientStatistics[] layers = evidence.Layers;
        int absoluteCount = 0, relativeCount = 0;
        LayerGradientStatistics? smallestMean = null;
        LayerGradientStatistics? worstRatioLayer = null;
        double worstRatio = double.PositiveInfinity;
        double largestLaterNorm = 0;

        // Walk from the loss towards the input, keeping the largest norm seen between each layer and the loss.
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            LayerGradientStatistics layer = layers[i];
            if (layer.Gradient.ElementCount == 0 || !layer.Gradient.IsFinite)
            {
                continue;
            }

            if (layer.MeanMagnitude < options.MeanMagnitudeThreshold)
            {
                absoluteCount++;
                if (smallestMean is null || layer.MeanMagnitude < smallestMean.MeanMagnitude)
                {
                    smallestMean = layer;
                }
            }

            if (largestLaterNorm > 0)
            {
                double ratio = layer.GradientNorm / largestLaterNorm;
                if (ratio < options.RelativeNormThreshold)
                {
                    relativeCount++;
                    if (ratio < worstRatio)
                    {
                        worstRatio = ratio;
                        worstRatioLayer = layer;
                    }
                }
            }

            largestLaterNorm = Math.Max(largestLaterNorm, layer.GradientNorm);
        }

        if (_absolute.Observe(evidence.Step, absoluteCount > 0))
        {
            alerts.Add(new GradientAlert(
                GradientAlertKind.Vanishing, GradientAlertSeverity.Warning, evidence.Step, smallestMean!.Name,
                GradientMetricNames.MeanAbsoluteGradient, smallestMean.MeanMagnitude, options.MeanMagnitudeThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"Layer '{smallestMean.Name}' has mean |g| {smallestMean.MeanMagnitude:G3}, below {options.MeanMagnitudeThreshold:G3}; {absoluteCount} of {layers.Length} layers are below it. ") +
                Diagnosis.Vanishing));
        }

        if (_relative.Observe(evidence.Step, relativeCount > 0))
        {
            alerts.Add(new GradientAlert(
                GradientAlertKind.Vanishing, GradientAlertSeverity.Warning, evidence.Step, worstRatioLayer!.Name,
                GradientMetricNames.NormRatioToLaterLayers, worstRatio, options.RelativeNormThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"Layer '{worstRatioLayer.Name}' (depth {worstRatioLayer.Index + 1} of {layers.Length}) has a gradient norm {worstRatio:G3} times the largest norm between it and the loss: the signal shrinks on its way back; {relativeCount} of {layers.Length} layers are below {options.RelativeNormThreshold:G3}. ") +
                Diagnosis.Vanishing));
        }
    }
}
