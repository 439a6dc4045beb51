using System.Globalization;

namespace GradientDiagnostics;

/// <summary>
/// Fires when gradients are absolutely tiny, shrink on their way from the loss to a layer, or the back-propagated
/// output gradient decays geometrically with depth (g^depth below the ratio).
/// </summary>
internal sealed class VanishingGradientDetector(VanishingGradientOptions options) : IGradientDetector
{
    private readonly AlertGate _absolute = new(options);
    private readonly AlertGate _relative = new(options);
    private readonly AlertGate _depth = new(options);

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
            alerts.Add(Diagnose(evidence, smallestMean!).ToAlert(
                GradientAlertKind.Vanishing, GradientAlertSeverity.Warning, evidence.Step, smallestMean!.Name,
                GradientMetricNames.MeanAbsoluteGradient, smallestMean.MeanMagnitude, options.MeanMagnitudeThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"{Describe(evidence, smallestMean)} has mean |g| {smallestMean.MeanMagnitude:G3}, below {options.MeanMagnitudeThreshold:G3}; {absoluteCount} of {layers.Length} layers are below it.")));
        }

        if (_relative.Observe(evidence.Step, relativeCount > 0))
        {
            alerts.Add(Diagnose(evidence, worstRatioLayer!).ToAlert(
                GradientAlertKind.Vanishing, GradientAlertSeverity.Warning, evidence.Step, worstRatioLayer!.Name,
                GradientMetricNames.NormRatioToLaterLayers, worstRatio, options.RelativeNormThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"{Describe(evidence, worstRatioLayer)} (depth {worstRatioLayer.Index + 1} of {layers.Length}) has a gradient norm {worstRatio:G3} times the largest norm between it and the loss: the signal shrinks on its way back; {relativeCount} of {layers.Length} layers are below {options.RelativeNormThreshold:G3}.")));
        }

        // Depth decay is judged only on steps whose output gradients were probed; other steps neither count for nor
        // against the persistence window. Parameter-gradient norms are not used as a fallback: they decay less than the
        // back-propagated signal (30-layer ReLU + Xavier at init: 9e-4 vs 6e-5 first/last, OutputGradientProbeTests),
        // and the relative criterion covers them.
        if (evidence.DepthGainOverDepth is double overDepth &&
            _depth.Observe(evidence.Step, options.DepthDecay && overDepth < options.RelativeNormThreshold))
        {
            LayerGradientStatistics first = evidence.FirstProbed!;
            alerts.Add(Diagnose(evidence, first).ToAlert(
                GradientAlertKind.Vanishing, GradientAlertSeverity.Warning, evidence.Step, first.Name,
                GradientMetricNames.DepthGainOverDepth, overDepth, options.RelativeNormThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"The output gradient ‖∂L/∂y‖ shrinks by a factor {evidence.DepthGain:G3} per layer across {evidence.ProbedLayers} probed layers: {overDepth:G3} from the last to {Diagnosis.DescribeLayer(evidence, first.Index)}, below {options.RelativeNormThreshold:G3}.")));
        }
    }

    private static string Describe(StepEvidence evidence, LayerGradientStatistics layer) => Diagnosis.Capitalize(Diagnosis.DescribeLayer(evidence, layer.Index));

    private static Diagnosis Diagnose(StepEvidence evidence, LayerGradientStatistics layer)
    {
        LayerDescriptor descriptor = evidence.Descriptors[layer.Index];
        InitializationScale? scale = InitializationScale.Measure(descriptor, evidence.Layers[layer.Index]);
        // Evidence first, in the order that fixes it: sigmoid caps the per-layer gain at 0.25·σ_w·√n whatever the init
        // (mean-field gain 0.24 at the Xavier scale), so the activation is the cause to fix first; tanh at the Xavier
        // scale keeps the gain near 1, so a tanh layer that vanishes has a measured init scale to fix first.
        var diagnosis = new Diagnosis();
        return (descriptor.FollowingActivation == ActivationKind.Tanh
                ? diagnosis.AddInitScale(scale).AddSaturatingActivation(descriptor)
                : diagnosis.AddSaturatingActivation(descriptor).AddInitScale(scale))
            .AddDepth(evidence.Layers.Length)
            .OrClassic(Diagnosis.ClassicVanishing);
    }
}
