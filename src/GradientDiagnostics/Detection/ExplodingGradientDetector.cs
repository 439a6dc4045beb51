using System.Globalization;

namespace GradientDiagnostics;

/// <summary>Fires when the global norm crosses a hard threshold, or gradients grow on their way from the loss to a layer.</summary>
internal sealed class ExplodingGradientDetector(ExplodingGradientOptions options) : IGradientDetector
{
    private readonly AlertGate _absolute = new(options);
    private readonly AlertGate _relative = new(options);

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        LayerGradientStatistics[] layers = evidence.Layers;
        LayerGradientStatistics? largest = null;
        LayerGradientStatistics? worstRatioLayer = null;
        double worstRatio = 0;
        int relativeCount = 0;
        double smallestLaterNorm = double.PositiveInfinity;

        // Walk from the loss towards the input, keeping the smallest non-zero norm between each layer and the loss.
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            LayerGradientStatistics layer = layers[i];
            if (layer.Gradient.ElementCount == 0 || !layer.Gradient.IsFinite)
            {
                continue;
            }

            if (largest is null || layer.GradientNorm > largest.GradientNorm)
            {
                largest = layer;
            }

            if (double.IsFinite(smallestLaterNorm))
            {
                double ratio = layer.GradientNorm / smallestLaterNorm;
                if (ratio > options.RelativeNormThreshold)
                {
                    relativeCount++;
                    if (ratio > worstRatio)
                    {
                        worstRatio = ratio;
                        worstRatioLayer = layer;
                    }
                }
            }

            if (layer.GradientNorm > 0)
            {
                smallestLaterNorm = Math.Min(smallestLaterNorm, layer.GradientNorm);
            }
        }

        double global = evidence.GlobalNorm;
        if (_absolute.Observe(evidence.Step, double.IsFinite(global) && global > options.GlobalNormThreshold))
        {
            alerts.Add(new GradientAlert(
                GradientAlertKind.Exploding, GradientAlertSeverity.Warning, evidence.Step, GradientAlert.GlobalLayerName,
                GradientMetricNames.GlobalNorm, global, options.GlobalNormThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"The global gradient norm is {global:G3}, above {options.GlobalNormThreshold:G3}; the largest layer norm is {largest!.GradientNorm:G3} in '{largest.Name}'. ") +
                Diagnosis.Exploding));
        }

        if (_relative.Observe(evidence.Step, relativeCount > 0))
        {
            alerts.Add(new GradientAlert(
                GradientAlertKind.Exploding, GradientAlertSeverity.Warning, evidence.Step, worstRatioLayer!.Name,
                GradientMetricNames.NormRatioToLaterLayers, worstRatio, options.RelativeNormThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"Layer '{worstRatioLayer.Name}' (depth {worstRatioLayer.Index + 1} of {layers.Length}) has a gradient norm {worstRatio:G3} times the smallest norm between it and the loss: the signal grows on its way back; {relativeCount} of {layers.Length} layers are above {options.RelativeNormThreshold:G3}. ") +
                Diagnosis.Exploding));
        }
    }
}
