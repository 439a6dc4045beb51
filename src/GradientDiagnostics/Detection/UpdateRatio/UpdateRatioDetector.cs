namespace GradientDiagnostics;

/// <summary>Fires when a layer's ‖Δw‖/‖w‖ leaves the hard band (Warning) or strays far from the usual ~1e-3 (Information).</summary>
internal sealed class UpdateRatioDetector(UpdateRatioOptions options) : IGradientDetector
{
    private readonly AlertGate _hard = new(options);
    private readonly AlertGate _soft = new(options);

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        int measured = 0, zeroUpdates = 0, hardCount = 0, softCount = 0, hardWorst = -1, softWorst = -1;
        double hardWorstRatio = 0, softWorstRatio = 0, hardDistance = -1, softDistance = -1;
        double softLow = options.TypicalRatio / options.SoftBandFactor, softHigh = options.TypicalRatio * options.SoftBandFactor;
        for (int i = 0; i < evidence.Layers.Length; i++)
        {
            LayerGradientStatistics o = evidence.Layers[i];
            if (o.ParameterUpdateNorm is not double update || !double.IsFinite(update) ||
                o.Parameters is not TensorStatistics { IsFinite: true } parameters || parameters.L2Norm <= 0)
            {
                continue;
            }

            measured++;
            zeroUpdates += update == 0 ? 1 : 0;
            double ratio = update / parameters.L2Norm;

            // Distance from the typical ratio in decades; a zero update is infinitely far.
            double distance = ratio > 0 ? Math.Abs(Math.Log10(ratio / options.TypicalRatio)) : double.PositiveInfinity;
            if (ratio < options.MinRatio || ratio > options.MaxRatio)
            {
                hardCount++;
                if (distance > hardDistance)
                {
                    (hardWorst, hardWorstRatio, hardDistance) = (i, ratio, distance);
                }
            }
            else if (ratio < softLow || ratio > softHigh)
            {
                softCount++;
                if (distance > softDistance)
                {
                    (softWorst, softWorstRatio, softDistance) = (i, ratio, distance);
                }
            }
        }

        // Every measured layer unchanged means no optimizer step was applied (a skipped non-finite step, gradient
        // accumulation), not that nothing learns: the step is treated as unmeasured. Some layers unchanged while others
        // move is judged: measured through the TorchSharp adapter, a sigmoid MLP's early layers get gradients of 1e-27,
        // whose updates vanish in float32.
        if (measured == 0 || zeroUpdates == measured)
        {
            return;
        }

        if (_hard.Observe(evidence.Step, hardCount > 0))
        {
            bool high = hardWorstRatio > options.MaxRatio;
            alerts.Add(Build(evidence, hardWorst, hardWorstRatio, high ? options.MaxRatio : options.MinRatio, GradientAlertSeverity.Warning,
                $"outside the hard band [{MessageNumber.Format(options.MinRatio)}, {MessageNumber.Format(options.MaxRatio)}]; {hardCount} of {measured} " +
                    "measured layers are outside it"));
        }

        // The soft gate sees every measured step, so its persistence counts soft-only steps; it stays quiet when the
        // hard criterion already holds somewhere, which says more.
        if (_soft.Observe(evidence.Step, softCount > 0 && hardCount == 0))
        {
            bool high = softWorstRatio > softHigh;
            alerts.Add(Build(evidence, softWorst, softWorstRatio, high ? softHigh : softLow, GradientAlertSeverity.Information,
                $"more than {MessageNumber.Format(options.SoftBandFactor)}× away from the usual {MessageNumber.Format(options.TypicalRatio)}; {softCount} of " +
                    $"{measured} measured layers are"));
        }
    }

    private static GradientAlert Build(StepEvidence evidence, int index, double ratio, double threshold, GradientAlertSeverity severity, string where)
    {
        LayerDescriptor layer = evidence.Descriptors[index];
        LayerGradientStatistics o = evidence.Layers[index];
        bool high = ratio > threshold;
        Diagnosis diagnosis = high
            ? new Diagnosis()
                .Add(GradientAlertCause.LearningRateTooHigh, "too large a learning rate: each step rewrites a large part of the weights",
                    GradientAlertFix.LowerLearningRate, "lower the learning rate (try 10× smaller) or add warm-up")
                .Add(GradientAlertCause.NoClipping, "unclipped large gradients", GradientAlertFix.ClipByGlobalNorm, "clip gradients by global norm")
            : new Diagnosis()
                .Add(GradientAlertCause.LearningRateTooLow, "too small a learning rate, or a schedule that has decayed it to ~0",
                    GradientAlertFix.RaiseLearningRate, "raise the learning rate or check the schedule")
                .Add(GradientAlertCause.VanishingUpstream, "vanishing gradients reaching this layer",
                    GradientAlertFix.ResidualAndNormalization, "see the Vanishing alerts; use residual connections, normalization and ReLU/GELU")
                .Add(GradientAlertCause.FrozenLayer, "a layer that is meant to be frozen but still has requires_grad",
                    GradientAlertFix.ExcludeFrozen, "exclude frozen parameters from the optimizer and the monitor");
        var findings = new AlertFindings(GradientAlertKind.UpdateRatio, evidence.Step);
        findings.Add(layer.Name, high ? "Weight updates are too large" : "Weight updates are too small",
            new GradientAlertCriterion(GradientMetricNames.UpdateRatio, ratio, threshold),
            $"‖Δw‖/‖w‖ {MessageNumber.Format(ratio)} (threshold {MessageNumber.Format(threshold)})",
            $"{Diagnosis.DescribeLayer(evidence, index)} is layer {index + 1} of {evidence.Layers.Length} from the input",
            [$"its update ‖Δw‖ = {MessageNumber.Format(o.ParameterUpdateNorm!.Value)} against ‖w‖ = {MessageNumber.Format(o.Parameters!.Value.L2Norm)} is " +
                $"{where}"],
            diagnosis, severity);
        var alerts = new List<GradientAlert>(1);
        findings.AddTo(alerts);
        return alerts[0];
    }

    public ComponentState SaveState(IReadOnlyList<string> layerNames) => new ComponentState().With("hard", _hard).With("soft", _soft);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("hard", _hard);
        state.Load("soft", _soft);
    }
}
