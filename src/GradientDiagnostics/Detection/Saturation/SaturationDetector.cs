namespace GradientDiagnostics;

/// <summary>Fires when more than half (by default) of a tanh / sigmoid layer's output elements are saturated.</summary>
internal sealed class SaturationDetector(SaturationOptions options) : IGradientDetector
{
    private readonly AlertGate _gate = new(options);

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        int worst = -1, measured = 0, saturating = 0;
        double worstFraction = 0;
        for (int i = 0; i < evidence.Layers.Length; i++)
        {
            if (evidence.Layers[i].Activations?.SaturatedFraction is not double fraction || double.IsNaN(fraction))
            {
                continue;
            }

            measured++;
            if (fraction > options.SaturatedFractionThreshold)
            {
                saturating++;
                if (fraction > worstFraction)
                {
                    (worst, worstFraction) = (i, fraction);
                }
            }
        }

        // Only measured steps move the persistence window.
        if (measured == 0 || !_gate.Observe(evidence.Step, saturating > 0))
        {
            return;
        }

        LayerDescriptor layer = evidence.Descriptors[worst];
        InitializationScale? scale = evidence.WeightScale(worst);
        Diagnosis diagnosis = new Diagnosis()
            .AddInitScale(scale, evidence.Layers.Length)
            .Add(GradientAlertCause.LargePreActivations,
                "pre-activations too large for a saturating activation (inputs not normalized, or a learning rate that pushed the weights up)",
                GradientAlertFix.NormalizeInputs, "normalize the inputs and add BatchNorm / LayerNorm before the activation")
            .AddSaturatingActivation(layer)
            .OrClassic(d => d.Add(GradientAlertCause.SaturatingActivation, "a saturating activation", GradientAlertFix.SwitchActivation,
                "switch to ReLU or GELU"));
        var findings = new AlertFindings(GradientAlertKind.Saturation, evidence.Step);
        findings.Add(layer.Name, "Units saturate",
            new GradientAlertCriterion(GradientMetricNames.SaturatedFraction, worstFraction, options.SaturatedFractionThreshold),
            $"{MessageNumber.Percent(worstFraction)} of units saturated (threshold {MessageNumber.Percent(options.SaturatedFractionThreshold)})",
            $"{Diagnosis.DescribeLayer(layer, scale)} is layer {worst + 1} of {evidence.Layers.Length} from the input",
            [$"a saturated unit sits where the activation's derivative is ~0, so no gradient flows back through it; {saturating} of {measured} measured " +
                $"layers are above {MessageNumber.Percent(options.SaturatedFractionThreshold)}"],
            diagnosis);
        findings.AddTo(alerts);
    }

    public ComponentState SaveState(IReadOnlyList<string> layerNames) => new ComponentState().With("gate", _gate);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("gate", _gate);
    }
}
