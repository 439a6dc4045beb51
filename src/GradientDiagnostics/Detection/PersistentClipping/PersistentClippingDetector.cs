namespace GradientDiagnostics;

/// <summary>Fires when the clipping policy changed the gradients on almost every recent step (the clipping stage's
/// outcome, <see cref="StepEvidence.Clipping"/>): the threshold is then below this model's typical gradient norm.
/// Steps on which clipping did not run (non-finite steps) are not counted.</summary>
internal sealed class PersistentClippingDetector(PersistentClippingOptions options) : IGradientDetector
{
    private readonly AlertGate _gate = new(options);

    public bool ReadsClipping => true;

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        if (evidence.Clipping is not ClippingOutcome { Ran: true } outcome || !_gate.Observe(evidence.Step, outcome.Acted))
        {
            return;
        }

        int window = _gate.Window, acted = _gate.RecentCount;
        alerts.Add(new Diagnosis()
            .Add(GradientAlertCause.ClippingThresholdTooLow,
                "the clipping threshold is below this model's typical gradient norm, so clipping acts as a hidden cut of the learning rate",
                GradientAlertFix.RaiseClippingThreshold,
                "raise maxNorm to near the median pre-clip norm (GradientStepResult.NormBeforeClipping), or use GradientClipping.AutoClip() or "
                + "GradientClipping.ZScore(), which follow the norm's own history")
            .ToAlert(GradientAlertKind.PersistentClipping, GradientAlertSeverity.Warning, evidence.Step, GradientAlert.GlobalLayerName,
                GradientMetricNames.ClippingActiveFraction, (double)acted / window, (double)options.Persistence / window,
                $"Clipping acts on almost every step: it changed the gradients on {acted} of the last {window} steps (threshold {options.Persistence} of " +
                    $"{window}). Clipping meant as a guard against spikes acts on a small minority of steps."));
    }

    public ComponentState SaveState(IReadOnlyList<string> layerNames) => new ComponentState().With("gate", _gate);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("gate", _gate);
    }
}
