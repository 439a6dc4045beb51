using System.Globalization;

namespace GradientDiagnostics;

/// <summary>
/// Fires when the global norm crosses a hard threshold or spikes against its history, when gradients grow on their
/// way from the loss to a layer, or when the probed output gradients grow geometrically with depth.
/// </summary>
internal sealed class ExplodingGradientDetector(ExplodingGradientOptions options) : IGradientDetector
{
    private readonly AlertGate _absolute = new(options);
    private readonly AlertGate _relative = new(options);
    private readonly AlertGate _depth = new(options);
    private readonly AlertGate _spike = new(options);

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
            alerts.Add(Diagnose(evidence, largest!).ToAlert(
                GradientAlertKind.Exploding, GradientAlertSeverity.Warning, evidence.Step, GradientAlert.GlobalLayerName,
                GradientMetricNames.GlobalNorm, global, options.GlobalNormThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"The global gradient norm is {global:G3}, above {options.GlobalNormThreshold:G3}; the largest layer norm is {largest!.GradientNorm:G3} in {Diagnosis.DescribeLayer(evidence, largest.Index)}.")));
        }

        if (_relative.Observe(evidence.Step, relativeCount > 0))
        {
            alerts.Add(Diagnose(evidence, worstRatioLayer!).ToAlert(
                GradientAlertKind.Exploding, GradientAlertSeverity.Warning, evidence.Step, worstRatioLayer!.Name,
                GradientMetricNames.NormRatioToLaterLayers, worstRatio, options.RelativeNormThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"{Diagnosis.Capitalize(Diagnosis.DescribeLayer(evidence, worstRatioLayer.Index))} (depth {worstRatioLayer.Index + 1} of {layers.Length}) has a gradient norm {worstRatio:G3} times the smallest norm between it and the loss: the signal grows on its way back; {relativeCount} of {layers.Length} layers are above {options.RelativeNormThreshold:G3}.")));
        }

        if (evidence.DepthGainOverDepth is double overDepth &&
            _depth.Observe(evidence.Step, options.DepthGrowth && overDepth > options.RelativeNormThreshold))
        {
            LayerGradientStatistics first = evidence.FirstProbed!;
            alerts.Add(Diagnose(evidence, first).ToAlert(
                GradientAlertKind.Exploding, GradientAlertSeverity.Warning, evidence.Step, first.Name,
                GradientMetricNames.DepthGainOverDepth, overDepth, options.RelativeNormThreshold,
                string.Create(CultureInfo.InvariantCulture,
                    $"The output gradient ‖∂L/∂y‖ grows by a factor {evidence.DepthGain:G3} per layer across {evidence.ProbedLayers} probed layers: {overDepth:G3} from the last to {Diagnosis.DescribeLayer(evidence, first.Index)}, above {options.RelativeNormThreshold:G3}.")));
        }

        DetectSpike(evidence, largest, alerts);
    }

    private void DetectSpike(StepEvidence evidence, LayerGradientStatistics? largest, List<GradientAlert> alerts)
    {
        if (!options.SpikeDetection || !double.IsFinite(evidence.GlobalNorm) || largest is null)
        {
            return;
        }

        double global = evidence.GlobalNorm;
        GradientHistory history = evidence.History;
        ExponentialMovingStatistics moving = history.GlobalMoving;
        (bool zSpike, bool earlySpike, double z, double overEarly) =
            GlobalNormSpike.Judge(global, moving, history.EarlyMaxGlobalNorm, history.EarlyMaxIsFinal, options);
        if (!_spike.Observe(evidence.Step, zSpike || earlySpike))
        {
            return;
        }

        string early = history.EarlyMaxIsFinal
            ? string.Create(CultureInfo.InvariantCulture, $", {overEarly:G3}× the largest norm of the first {options.EarlySteps} steps ({history.EarlyMaxGlobalNorm:G3})")
            : string.Empty;
        string zText = moving.IsWarm
            ? string.Create(CultureInfo.InvariantCulture, $": z-score {z:G3} against its moving mean {moving.Mean:G3} ± {moving.StandardDeviation:G3} (α = {options.SpikeEmaDecay})")
            : string.Empty;
        string evidenceText = string.Create(CultureInfo.InvariantCulture,
            $"The global gradient norm spiked to {global:G3}{zText}{early}; the median of the last {history.GlobalNorms.Count} steps is {history.GlobalNorms.Median():G3}. The largest layer norm is {largest.GradientNorm:G3} in {Diagnosis.DescribeLayer(evidence, largest.Index)}.");
        alerts.Add(new Diagnosis()
            .Add("an outlier batch or a too large learning rate for the current loss landscape", "lower the learning rate or add warm-up; inspect the batch")
            .Add("no adaptive gradient clipping", "clip by global norm or adaptively (ZClip-style z-score clipping) so single spikes cannot move the weights far")
            .ToAlert(
                GradientAlertKind.Exploding, GradientAlertSeverity.Warning, evidence.Step, GradientAlert.GlobalLayerName,
                zSpike ? GradientMetricNames.GlobalNormZScore : GradientMetricNames.GlobalNormRatioToEarlyMax,
                zSpike ? z : overEarly,
                zSpike ? options.SpikeZScoreThreshold : options.SpikeFactorOverEarlyMax,
                evidenceText));
    }

    private static Diagnosis Diagnose(StepEvidence evidence, LayerGradientStatistics layer)
    {
        LayerDescriptor descriptor = evidence.Descriptors[layer.Index];
        return new Diagnosis()
            .AddInitScale(InitializationScale.Measure(descriptor, evidence.Layers[layer.Index]))
            .OrClassic(Diagnosis.ClassicExploding)
            .Add("no gradient clipping", "clip gradients by global norm (for example max norm 1.0)")
            .Add("too large a learning rate", "lower the learning rate (or warm it up)")
            .AddDepth(evidence.Layers.Length);
    }
}
