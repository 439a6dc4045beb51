namespace GradientDiagnostics;

/// <summary>
/// Fires when a recurrent layer's back-propagated signal grows by more than
/// <see cref="ExplodingThroughTimeOptions.GrowthThreshold"/> on its way back through the sequence. Judged only on steps
/// that measured a profile; one alert per such layer.
/// </summary>
internal sealed class ExplodingThroughTimeDetector(ExplodingThroughTimeOptions options, bool clippingConfigured) : IGradientDetector
{
    private readonly AlertGate _gate = new(options);

    public ComponentState SaveState(IReadOnlyList<string> layerNames) => new ComponentState().With("gate", _gate);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames) => state.Load("gate", _gate);

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        List<(RecurrentTimeProfile Profile, double Growth)> growing = [];
        int measured = 0;
        foreach (RecurrentTimeProfile p in evidence.TimeProfiles)
        {
            if (!p.Measured || p.SequenceLength < 2)
            {
                continue;
            }

            measured++;
            double growth = TimeProfileFigures.Growth(p.SignalBack());
            if (growth > options.GrowthThreshold)
            {
                growing.Add((p, growth));
            }
        }

        if (measured == 0 || !_gate.Observe(evidence.Step, growing.Count > 0))
        {
            return;
        }

        var findings = new AlertFindings(GradientAlertKind.ExplodingThroughTime, evidence.Step);
        foreach ((RecurrentTimeProfile p, double growth) in growing)
        {
            findings.Add(TimeProfileEvidence.AlertLayer(p), "Gradients explode through time",
                new GradientAlertCriterion(GradientMetricNames.GrowthThroughTime, growth, options.GrowthThreshold),
                $"the signal grows {MessageNumber.Format(growth)}× on its way back through {p.SequenceLength} steps "
                + $"(threshold {MessageNumber.Format(options.GrowthThreshold)}×)",
                $"{TimeProfileEvidence.Name(p)} multiplies its gradient by about {MessageNumber.Format(p.GainPerStep)} per step back in time",
                [TimeProfileEvidence.Gain(p), .. TimeProfileEvidence.Weights(p)],
                Diagnose(p));
        }

        findings.AddTo(alerts);
    }

    private Diagnosis Diagnose(RecurrentTimeProfile p)
    {
        var d = new Diagnosis();
        if (clippingConfigured)
        {
            d.Add(GradientAlertCause.NormsBeforeClipping, ClassicCauses.ClippingOnCause, GradientAlertFix.FixScale, ClassicCauses.ClippingOnFix);
        }
        else
        {
            d.Add(GradientAlertCause.NoClipping, "no gradient clipping: Pascanu, Mikolov & Bengio 2013 clip the norm against exactly this",
                GradientAlertFix.ClipByGlobalNorm, LibraryRemedies.ClipByGlobalNorm);
        }

        string relu = p.Unit == "RNN_RELU" ? " (a ReLU RNN has no saturation to bound it)" : "";
        d.Add(GradientAlertCause.RecurrentGain, $"a recurrent weight whose gain per step is above 1{relu}",
            GradientAlertFix.InitializeForGradientFlow, LibraryRemedies.InitializeRecurrentForGradientFlow);
        return d;
    }
}
