namespace GradientDiagnostics;

/// <summary>
/// Fires when a recurrent layer's memory horizon (<see cref="RecurrentTimeProfile.MemoryHorizon"/>) covers less than
/// <see cref="VanishingThroughTimeOptions.HorizonShareThreshold"/> of its sequence. Judged only on steps that measured a
/// profile; one alert per such layer.
/// </summary>
internal sealed class VanishingThroughTimeDetector(VanishingThroughTimeOptions options) : IGradientDetector
{
    private readonly AlertGate _gate = new(options);

    public ComponentState SaveState(IReadOnlyList<string> layerNames) => new ComponentState().With("gate", _gate);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames) => state.Load("gate", _gate);

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        List<(RecurrentTimeProfile Profile, double Share)> shortLived = [];
        int measured = 0;
        foreach (RecurrentTimeProfile p in evidence.TimeProfiles)
        {
            if (!p.Measured || p.SequenceLength < 2)
            {
                continue;
            }

            measured++;
            double share = p.MemoryHorizon is int h ? (double)h / p.SequenceLength : double.PositiveInfinity;
            if (share < options.HorizonShareThreshold)
            {
                shortLived.Add((p, share));
            }
        }

        if (measured == 0 || !_gate.Observe(evidence.Step, shortLived.Count > 0))
        {
            return;
        }

        var findings = new AlertFindings(GradientAlertKind.VanishingThroughTime, evidence.Step);
        foreach ((RecurrentTimeProfile p, double share) in shortLived)
        {
            int horizon = p.MemoryHorizon!.Value;
            findings.Add(TimeProfileEvidence.AlertLayer(p), "Gradients vanish through time",
                new GradientAlertCriterion(GradientMetricNames.MemoryHorizonShare, share, options.HorizonShareThreshold),
                $"the signal stays above {MessageNumber.Percent(p.HorizonFraction)} of its size at the loss for {horizon} of {p.SequenceLength} steps "
                + $"(threshold {MessageNumber.Percent(options.HorizonShareThreshold)} of the sequence)",
                $"{TimeProfileEvidence.Name(p)} keeps a gradient signal for about {horizon} of its {p.SequenceLength} steps: "
                + "dependencies longer than that cannot be learned",
                [TimeProfileEvidence.Gain(p), .. TimeProfileEvidence.Weights(p)],
                Diagnose(p));
        }

        findings.AddTo(alerts);
    }

    private static Diagnosis Diagnose(RecurrentTimeProfile p)
    {
        var d = new Diagnosis();
        if (p.ForgetTimescale is double timescale && timescale < p.SequenceLength)
        {
            string gate = p.Unit == "GRU" ? "update" : "forget";
            d.Add(GradientAlertCause.ShortGateTimescale, $"a {gate} gate that keeps the state for only about {MessageNumber.Format(timescale)} steps "
                + "(the default bias 0 gives σ(0) = 0.5, 1.4 steps)",
                GradientAlertFix.InitializeForGradientFlow,
                LibraryRemedies.InitializeRecurrentForGradientFlow
                + " (chrono initialization, Tallec & Ollivier 2018; a forget bias of +1 in effect, Jozefowicz et al. 2015, is the minimum)");
        }
        else
        {
            d.Add(GradientAlertCause.RecurrentGain,
                "a recurrent weight whose gain per step is below 1 (a default-initialized tanh RNN has a spectral radius of about 0.6)",
                GradientAlertFix.InitializeForGradientFlow, LibraryRemedies.InitializeRecurrentForGradientFlow);
        }

        if (p.Unit.StartsWith("RNN", StringComparison.Ordinal))
        {
            d.Add(GradientAlertCause.VanillaRecurrence, "a vanilla RNN, whose only path back in time goes through W_hh and the activation's derivative",
                GradientAlertFix.GatedUnit, "use an LSTM or GRU, whose gated cell state carries the gradient across many steps");
        }

        return d;
    }
}
