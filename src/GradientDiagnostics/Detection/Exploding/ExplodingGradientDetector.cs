namespace GradientDiagnostics;

/// <summary>
/// Fires when the global norm crosses a hard threshold or spikes against its history, when gradients grow on their
/// way from the loss to a layer, or when the probed output gradients grow geometrically with depth. The criteria that
/// cross on one layer (or on the whole network) at one step make one alert (<see cref="AlertFindings"/>).
/// </summary>
internal sealed class ExplodingGradientDetector(ExplodingOptions options, bool clippingConfigured) : IGradientDetector
{
    private const string What = "Gradients explode";
    private readonly AlertGate _absolute = new(options);
    private readonly AlertGate _relative = new(options);
    private readonly AlertGate _depth = new(options);
    private readonly AlertGate _spike = new(options);
    private readonly RollingWindow _losses = new(GradientHistory.WindowLength);

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

        var findings = new AlertFindings(GradientAlertKind.Exploding, evidence.Step);
        string threshold = MessageNumber.Format(options.RelativeNormThreshold);
        double global = evidence.GlobalNorm;
        if (_absolute.Observe(evidence.Step, double.IsFinite(global) && global > options.GlobalNormThreshold))
        {
            findings.Add(GradientAlert.GlobalLayerName, What, new GradientAlertCriterion(GradientMetricNames.GlobalGradientNorm, global,
                options.GlobalNormThreshold),
                $"global norm {MessageNumber.Format(global)} (threshold {MessageNumber.Format(options.GlobalNormThreshold)})",
                string.Empty, [LargestLayer(evidence, largest!)],
                Diagnose(evidence, largest!));
        }

        if (evidence.DepthGainOverDepth is double overDepth &&
            _depth.Observe(evidence.Step, options.DepthGrowth && overDepth > options.RelativeNormThreshold))
        {
            LayerGradientStatistics first = evidence.FirstProbed!;
            findings.Add(first.Name, What, new GradientAlertCriterion(GradientMetricNames.DepthGainOverDepth, overDepth, options.RelativeNormThreshold),
                $"‖∂L/∂y‖ grows by a factor {MessageNumber.Format(evidence.DepthGain!.Value)} per layer across {evidence.ProbedLayers} probed layers, to " +
                    $"{MessageNumber.Format(overDepth)} times its value at the last one (threshold {threshold})",
                Describe(evidence, first), [], Diagnose(evidence, first));
        }

        if (_relative.Observe(evidence.Step, relativeCount > 0))
        {
            findings.Add(worstRatioLayer!.Name, What, new GradientAlertCriterion(GradientMetricNames.NormRatioToLaterLayers, worstRatio,
                options.RelativeNormThreshold),
                $"gradient norm {MessageNumber.Format(worstRatio)}× the smallest between it and the loss (threshold {threshold})",
                Describe(evidence, worstRatioLayer),
                [$"{relativeCount} of {layers.Length} layers have a norm above {threshold}× that of a layer between them and the loss: the signal grows on " +
                    "its way back"],
                Diagnose(evidence, worstRatioLayer));
        }

        DetectSpike(evidence, largest, findings);
        findings.AddTo(alerts);
        if (evidence.Loss is double loss && double.IsFinite(loss))
        {
            _losses.Add(loss);
        }
    }

    private void DetectSpike(StepEvidence evidence, LayerGradientStatistics? largest, AlertFindings findings)
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
        (double normRatio, double lossRatio)? batch = LossAgainstMedian(evidence);
        // An outlier batch raises its loss at least as much as its gradient norm (MSE: the loss goes with the square of
        // the residual, the gradient with the residual; cross-entropy: the loss grows without bound while the logit
        // gradient stays bounded). A gradient explosion raises the norm first: a cliff in the landscape, or a norm that
        // was already growing at the previous step. The early-max and absolute criteria still bound any batch.
        bool outlierBatch = zSpike && options.IgnoreOutlierBatches && batch is { } b && b.lossRatio >= b.normRatio &&
            history.GlobalNorms.Latest <= options.SpikeMinFactorOverMean * moving.Mean;
        zSpike &= !outlierBatch;
        if (!_spike.Observe(evidence.Step, zSpike || earlySpike))
        {
            return;
        }

        var clause = new List<string>(2);
        if (moving.IsWarm)
        {
            clause.Add($"z-score {MessageNumber.Format(z)} against its moving mean {MessageNumber.Format(moving.Mean)} ± " +
                $"{MessageNumber.Format(moving.StandardDeviation)} (threshold {MessageNumber.Format(options.SpikeZScoreThreshold)})");
        }

        if (history.EarlyMaxIsFinal)
        {
            clause.Add($"{MessageNumber.Format(overEarly)}× the largest norm of the first {options.EarlySteps} steps, " +
                $"{MessageNumber.Format(history.EarlyMaxGlobalNorm)} (threshold {MessageNumber.Format(options.SpikeFactorOverEarlyMax)}×)");
        }

        Diagnosis diagnosis = new Diagnosis()
            .Add(GradientAlertCause.OutlierBatch, "an outlier batch or a too large learning rate for the current loss landscape",
                GradientAlertFix.LowerLearningRate, "lower the learning rate or add warm-up; inspect the batch")
            .Add(GradientAlertCause.NoAdaptiveClipping, "no adaptive gradient clipping", GradientAlertFix.AdaptiveClipping, LibraryRemedies.AdaptiveClipping)
            .Add(GradientAlertCause.NoStepGuard, "nothing stops a spiking step from reaching the weights", GradientAlertFix.EnableRecovery,
                LibraryRemedies.EnableRecovery);
        findings.Add(GradientAlert.GlobalLayerName, "Gradients spike",
            new GradientAlertCriterion(zSpike ? GradientMetricNames.GlobalGradientNormZScore : GradientMetricNames.GlobalGradientNormRatioToEarlyMax,
                zSpike ? z : overEarly,
                zSpike ? options.SpikeZScoreThreshold : options.SpikeFactorOverEarlyMax),
            $"the global norm spiked to {MessageNumber.Format(global)}, {string.Join(", and ", clause)}", string.Empty,
            [$"the median of the last {history.GlobalNorms.Count} steps is {MessageNumber.Format(history.GlobalNorms.Median())} (moving average decay α = " +
                $"{MessageNumber.Format(options.SpikeEmaDecay)})", LargestLayer(evidence, largest), .. LossEvidence(batch)],
            diagnosis);
    }

    /// <summary>This step's global norm and loss, each over its median of the last <see cref="GradientHistory.WindowLength"/>
    /// steps; null without a positive loss, or before <see cref="ExplodingOptions.SpikeWarmupSteps"/> losses are known.</summary>
    private (double NormRatio, double LossRatio)? LossAgainstMedian(StepEvidence evidence)
    {
        double normMedian = evidence.History.GlobalNorms.Median();
        if (evidence.Loss is not double loss || !double.IsFinite(loss) || loss <= 0 || _losses.Count < options.SpikeWarmupSteps ||
            _losses.Median() is not (> 0 and var lossMedian) || !(normMedian > 0))
        {
            return null;
        }

        return (evidence.GlobalNorm / normMedian, loss / lossMedian);
    }

    private static string[] LossEvidence((double NormRatio, double LossRatio)? batch) => batch is { } b
        ? [$"the norm is {MessageNumber.Format(b.NormRatio)}× its median and the loss {MessageNumber.Format(b.LossRatio)}× its median of the same steps"]
        : [];

    private static string LargestLayer(StepEvidence evidence, LayerGradientStatistics largest) =>
        $"the largest layer norm is {MessageNumber.Format(largest.GradientNorm)} in {Diagnosis.DescribeLayer(evidence, largest.Index)}";

    private static string Describe(StepEvidence evidence, LayerGradientStatistics layer) =>
        $"{Diagnosis.DescribeLayer(evidence, layer.Index)} is layer {layer.Index + 1} of {evidence.Layers.Length} from the input";

    private Diagnosis Diagnose(StepEvidence evidence, LayerGradientStatistics layer)
    {
        // The detector reads the norms before the clipping stage: with a policy configured, the applied step is already
        // bounded, so "add clipping" would be the wrong fix; what remains is why the norm is that large.
        return new Diagnosis()
            .AddInitScale(evidence.WeightScale(layer.Index), evidence.Layers.Length)
            .OrClassic(d => ClassicCauses.Exploding(d, clippingConfigured))
            .Merge(clippingConfigured
                ? new Diagnosis().Add(GradientAlertCause.NormsBeforeClipping, ClassicCauses.ClippingOnCause, GradientAlertFix.FixScale,
                    ClassicCauses.ClippingOnFix)
                : new Diagnosis().Add(GradientAlertCause.NoClipping, "no gradient clipping", GradientAlertFix.ClipByGlobalNorm,
                    LibraryRemedies.ClipByGlobalNorm))
            .Add(GradientAlertCause.LearningRateTooHigh, "too large a learning rate", GradientAlertFix.LowerLearningRate,
                "lower the learning rate (or warm it up)")
            .AddDepth(evidence.Layers.Length);
    }

    public ComponentState SaveState(IReadOnlyList<string> layerNames)
    {
        WindowState losses = _losses.SaveState();
        return new ComponentState().With("absolute", _absolute).With("relative", _relative).With("depth", _depth).With("spike", _spike)
            .With("losses", losses.Values).With("lossesNext", (long)losses.Next);
    }

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("absolute", _absolute);
        state.Load("relative", _relative);
        state.Load("depth", _depth);
        state.Load("spike", _spike);
        // A state saved before the loss window existed has none: the window then fills again from the next steps.
        if (state.Series?.ContainsKey("losses") == true)
        {
            _losses.LoadState(new WindowState { Values = state.SeriesOf("losses"), Next = (int)state.CountOf("lossesNext") });
        }
    }
}
