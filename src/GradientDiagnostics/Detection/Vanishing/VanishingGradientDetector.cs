namespace GradientDiagnostics;

/// <summary>
/// Fires when gradients are absolutely tiny, shrink on their way from the loss to a layer, or the back-propagated
/// output gradient decays geometrically with depth (g^depth below the ratio). The criteria that cross on one layer at
/// one step make one alert (<see cref="AlertFindings"/>), headed by the depth decay, then the mean |g|, then the ratio.
/// </summary>
internal sealed class VanishingGradientDetector(VanishingOptions options) : IGradientDetector
{
    private const string What = "Gradients vanish";
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

        var findings = new AlertFindings(GradientAlertKind.Vanishing, evidence.Step);
        string threshold = MessageNumber.Format(options.RelativeNormThreshold);

        // Depth decay is judged only on steps whose output gradients were probed; other steps neither count for nor
        // against the persistence window. Parameter-gradient norms are not used as a fallback: they decay less than the
        // back-propagated signal (30-layer ReLU + Xavier at init: 9e-4 vs 6e-5 first/last, OutputGradientProbeTests),
        // and the relative criterion covers them.
        if (evidence.DepthGainOverDepth is double overDepth &&
            _depth.Observe(evidence.Step, options.DepthDecay && overDepth < options.RelativeNormThreshold))
        {
            LayerGradientStatistics first = evidence.FirstProbed!;
            findings.Add(first.Name, What, new GradientAlertCriterion(GradientMetricNames.DepthGainOverDepth, overDepth, options.RelativeNormThreshold),
                $"‖∂L/∂y‖ shrinks by a factor {MessageNumber.Format(evidence.DepthGain!.Value)} per layer across {evidence.ProbedLayers} probed layers, to " +
                    $"{MessageNumber.Format(overDepth)} of its value at the last one (threshold {threshold})",
                Describe(evidence, first), [], Diagnose(evidence, first));
        }

        if (_absolute.Observe(evidence.Step, absoluteCount > 0))
        {
            findings.Add(smallestMean!.Name, What, new GradientAlertCriterion(GradientMetricNames.MeanAbsoluteGradient, smallestMean.MeanMagnitude,
                options.MeanMagnitudeThreshold),
                $"mean |g| {MessageNumber.Format(smallestMean.MeanMagnitude)} (threshold {MessageNumber.Format(options.MeanMagnitudeThreshold)})",
                Describe(evidence, smallestMean),
                [$"{absoluteCount} of {layers.Length} layers have a mean |g| below {MessageNumber.Format(options.MeanMagnitudeThreshold)}"],
                Diagnose(evidence, smallestMean));
        }

        if (_relative.Observe(evidence.Step, relativeCount > 0))
        {
            findings.Add(worstRatioLayer!.Name, What, new GradientAlertCriterion(GradientMetricNames.NormRatioToLaterLayers, worstRatio,
                options.RelativeNormThreshold),
                $"gradient norm {MessageNumber.Format(worstRatio)}× the largest between it and the loss (threshold {threshold})",
                Describe(evidence, worstRatioLayer),
                [$"{relativeCount} of {layers.Length} layers have a norm below {threshold}× that of a layer between them and the loss: the signal shrinks on " +
                    "its way back"],
                Diagnose(evidence, worstRatioLayer));
        }

        findings.AddTo(alerts);
    }

    private static string Describe(StepEvidence evidence, LayerGradientStatistics layer) =>
        $"{Diagnosis.DescribeLayer(evidence, layer.Index)} is layer {layer.Index + 1} of {evidence.Layers.Length} from the input";

    private static Diagnosis Diagnose(StepEvidence evidence, LayerGradientStatistics layer)
    {
        LayerDescriptor descriptor = evidence.Descriptors[layer.Index];
        InitializationScale? scale = evidence.WeightScale(layer.Index);
        // A measured init scale far from its expectation ranks first (Diagnosis); then the activation, whose derivative
        // caps the per-layer gain (sigmoid: 0.25·σ_w·√n, mean-field gain 0.24 at the Xavier scale), then depth.
        return new Diagnosis()
            .AddInitScale(scale, evidence.Layers.Length)
            .AddSaturatingActivation(descriptor)
            .AddDepth(evidence.Layers.Length)
            .OrClassic(ClassicCauses.Vanishing);
    }

    public ComponentState SaveState(IReadOnlyList<string> layerNames) =>
        new ComponentState().With("absolute", _absolute).With("relative", _relative).With("depth", _depth);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("absolute", _absolute);
        state.Load("relative", _relative);
        state.Load("depth", _depth);
    }
}
