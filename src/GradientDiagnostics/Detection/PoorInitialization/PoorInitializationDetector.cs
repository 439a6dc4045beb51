namespace GradientDiagnostics;

/// <summary>In the first steps, fires when activation variances differ widely across layers, or a layer's weight
/// scale is far from the Xavier / He expectation.</summary>
/// <remarks>
/// Each criterion judges the init once: on the first step, within <see cref="PoorInitializationOptions.InitialSteps"/>,
/// at which its inputs are measured. Later steps judge training rather than the init: one SGD step on a healthy deep
/// MLP already spreads the activation variances by 20× (measured: docs/detectors.md#poor-initialization-is-judged-once).
/// </remarks>
internal sealed class PoorInitializationDetector(PoorInitializationOptions options) : IGradientDetector
{
    private const string What = "Poor initialization";
    private readonly AlertGate _variance = new(options);
    private readonly AlertGate _weights = new(options);
    private bool _varianceJudged;
    private bool _weightsJudged;

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        if (evidence.Step >= options.InitialSteps)
        {
            return;
        }

        // Both criteria name a layer; when they name the same one at one step, it gets one alert.
        var findings = new AlertFindings(GradientAlertKind.PoorInitialization, evidence.Step);
        if (!_varianceJudged)
        {
            _varianceJudged = DetectVarianceSpread(evidence, findings);
        }

        if (!_weightsJudged)
        {
            _weightsJudged = DetectWeightScale(evidence, findings);
        }

        findings.AddTo(alerts);
    }

    /// <returns>Whether the criterion could be judged at this step.</returns>
    private bool DetectVarianceSpread(StepEvidence evidence, AlertFindings findings)
    {
        // Only hidden ReLU-family layers are compared, as SageMaker Debugger's rule reads only ReLU inputs. With He init
        // their variance is a fixed point of depth, so a wide spread is an init problem. Tanh and sigmoid variances
        // shrink with depth even at a good init (measured here on a 30-layer tanh + Xavier MLP through the TorchSharp
        // adapter: a ratio of 57 while the gradient gain stays 0.94), and the last layer's scale is set by the loss.
        int smallest = -1, largest = -1, measured = 0;
        for (int i = 0; i < evidence.Layers.Length - 1; i++)
        {
            if (VarianceOf(evidence, i) is not double v)
            {
                continue;
            }

            measured++;
            smallest = smallest < 0 || v < evidence.Layers[smallest].Activations!.Variance ? i : smallest;
            largest = largest < 0 || v > evidence.Layers[largest].Activations!.Variance ? i : largest;
        }

        if (measured < 2)
        {
            return false;
        }

        double low = evidence.Layers[smallest].Activations!.Variance, high = evidence.Layers[largest].Activations!.Variance;
        double ratio = high / low;
        // The spread must also be steep: a per-layer change beyond what a weight std at the edge of the accepted band
        // makes. A shallow model at TorchSharp's default init (0.41× He: 1/6 of the variance per ReLU layer) spreads
        // past 10× over two or three layers without being a poor init (docs/detectors.md#poor-initialization-is-judged-per-layer).
        (double perLayer, int from, int to) = SteepestPerLayerFactor(evidence);
        if (!_variance.Observe(evidence.Step, ratio > options.ActivationVarianceRatioThreshold && perLayer > options.ActivationVarianceRatioPerLayerThreshold))
        {
            return true;
        }

        // The layer to name is the one off the network's typical scale: the later of the two extremes is where the
        // forward signal has drifted to.
        int named = Math.Max(smallest, largest);
        LayerDescriptor layer = evidence.Descriptors[named];
        InitializationScale? scale = evidence.WeightScale(named);
        Diagnosis diagnosis = new Diagnosis()
            .AddInitScale(scale, evidence.Layers.Length)
            .OrClassic(d => d.Add(GradientAlertCause.InitScale, "an init scale that does not preserve the activation variance from layer to layer",
                GradientAlertFix.StandardInit, "use Xavier init for tanh/sigmoid layers and He init for ReLU layers"))
            .Add(GradientAlertCause.NoNormalization, "no normalization to re-centre the forward signal", GradientAlertFix.AddNormalization,
                "add BatchNorm / LayerNorm")
            .AddDepth(evidence.Layers.Length);
        findings.Add(layer.Name, What,
            new GradientAlertCriterion(GradientMetricNames.ActivationVarianceRatio, ratio, options.ActivationVarianceRatioThreshold),
            $"activation variance spread {MessageNumber.Format(ratio)}× across {measured} layers at step {evidence.Step} (threshold " +
                $"{MessageNumber.Format(options.ActivationVarianceRatioThreshold)}×)",
            $"{Diagnosis.DescribeLayer(layer, scale)} is layer {named + 1} of {evidence.Layers.Length} from the input",
            [$"the variance ranges from {MessageNumber.Format(low)} in '{evidence.Descriptors[smallest].Name}' to {MessageNumber.Format(high)} in " +
                $"'{evidence.Descriptors[largest].Name}': the forward signal {(largest > smallest ? "grows" : "shrinks")} with depth",
                $"it changes by {MessageNumber.Format(perLayer)}× per layer from '{evidence.Descriptors[from].Name}' to '{evidence.Descriptors[to].Name}' " +
                    $"(threshold {MessageNumber.Format(options.ActivationVarianceRatioPerLayerThreshold)}×)"],
            diagnosis);

        return true;
    }

    /// <summary>Layer <paramref name="index"/>'s pre-activation variance when it is a hidden ReLU-family layer with a
    /// finite, positive measured variance; otherwise null.</summary>
    private static double? VarianceOf(StepEvidence evidence, int index) =>
        index < evidence.Layers.Length - 1 &&
        evidence.Descriptors[index].FollowingActivation is ActivationKind.ReLU or ActivationKind.LeakyReLU or ActivationKind.GELU &&
        evidence.Layers[index].Activations is { } a && double.IsFinite(a.Variance) && a.Variance > 0
            ? a.Variance
            : null;

    /// <summary>The steepest change of the variance per layer between two compared layers, (v_j / v_i)^(1/(j − i)) or its
    /// inverse, over every pair i &lt; j; with the two layers, in forward order. A spread made by one mis-scaled layer is
    /// as steep as its own factor, however many layers lie between the extremes.</summary>
    private static (double Factor, int From, int To) SteepestPerLayerFactor(StepEvidence evidence)
    {
        (double factor, int from, int to) = (1, 0, 0);
        for (int i = 0; i < evidence.Layers.Length - 1; i++)
        {
            if (VarianceOf(evidence, i) is not double vi)
            {
                continue;
            }

            for (int j = i + 1; j < evidence.Layers.Length - 1; j++)
            {
                if (VarianceOf(evidence, j) is double vj && Math.Exp(Math.Abs(Math.Log(vj / vi)) / (j - i)) is var f && f > factor)
                {
                    (factor, from, to) = (f, i, j);
                }
            }
        }

        return (factor, from, to);
    }

    /// <returns>Whether the criterion could be judged at this step.</returns>
    private bool DetectWeightScale(StepEvidence evidence, AlertFindings findings)
    {
        int worst = -1, measured = 0, off = 0;
        double worstLogDistance = 0;
        InitializationScale worstScale = default;
        for (int i = 0; i < evidence.Layers.Length; i++)
        {
            if (InitializationScale.Measure(evidence.Descriptors[i], evidence.Layers[i]) is not InitializationScale scale || scale.Measured <= 0)
            {
                continue;
            }

            measured++;
            double logDistance = options.ReportSmallWeights ? Math.Abs(Math.Log(scale.Ratio)) : Math.Log(scale.Ratio);
            if (logDistance > Math.Log(options.WeightStdFactor))
            {
                off++;
                if (logDistance > worstLogDistance)
                {
                    (worst, worstLogDistance, worstScale) = (i, logDistance, scale);
                }
            }
        }

        if (measured == 0)
        {
            return false;
        }

        if (!_weights.Observe(evidence.Step, off > 0))
        {
            return true;
        }

        LayerDescriptor layer = evidence.Descriptors[worst];
        Diagnosis diagnosis = new Diagnosis()
            .AddInitScaleBeyond(worstScale, options.WeightStdFactor)
            .Add(GradientAlertCause.InitScale,
                $"too {(worstScale.Ratio > 1 ? "large" : "small")} an init scale: the signal {(worstScale.Ratio > 1 ? "grows" : "shrinks")} by about this " +
                    "factor per layer",
                GradientAlertFix.AddNormalization, "keep the init scale unless it is intended, and add normalization layers to absorb it");
        if (layer.FollowingActivation is ActivationKind.Sigmoid or ActivationKind.Tanh)
        {
            diagnosis.Add(GradientAlertCause.SaturatingActivation, $"a saturating activation ({layer.FollowingActivation}) amplifies a wrong scale",
                GradientAlertFix.SwitchActivation, "or switch to ReLU / GELU with He init");
        }

        double threshold = worstScale.Ratio > 1 ? options.WeightStdFactor : 1 / options.WeightStdFactor;
        findings.Add(layer.Name, What,
            new GradientAlertCriterion(GradientMetricNames.WeightStdRatioToExpected, worstScale.Ratio, threshold),
            $"weight std {MessageNumber.Format(worstScale.Ratio)}× the {worstScale.Scheme} expectation (threshold {MessageNumber.Format(threshold)}×)",
            $"{Diagnosis.DescribeLayer(layer, worstScale)} is layer {worst + 1} of {evidence.Layers.Length} from the input",
            [$"the expectation is for fan-in {layer.FanIn} and fan-out {layer.FanOut ?? layer.FanIn}; {off} of {measured} measured layers are off by more " +
                $"than {MessageNumber.Format(options.WeightStdFactor)}×"],
            diagnosis);

        return true;
    }

    public ComponentState SaveState(IReadOnlyList<string> layerNames) => new ComponentState()
        .With("variance", _variance).With("weights", _weights).With("varianceJudged", _varianceJudged).With("weightsJudged", _weightsJudged);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("variance", _variance);
        state.Load("weights", _weights);
        (_varianceJudged, _weightsJudged) = (state.FlagOf("varianceJudged"), state.FlagOf("weightsJudged"));
    }
}
