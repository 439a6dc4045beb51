namespace GradientDiagnostics;

/// <summary>
/// Runs one monitor's clipping policy at each step, after the statistics and the detectors: decides from the measured
/// statistics, applies through the adapter's <see cref="IGradientClippingTarget"/>, and reports the norms before and after
/// (read by <see cref="PersistentClippingDetector"/> through <see cref="StepEvidence.Clipping"/>).
/// </summary>
internal sealed class ClippingStage
{
    private readonly GradientClipping _policy;
    private readonly double _normType;

    public ClippingStage(GradientClipping policy, IReadOnlyList<string> layerNames)
    {
        _policy = policy.Bind(layerNames);
        _normType = _policy.GlobalNormType ?? 2;
    }

    /// <summary>Whether the policy marks non-finite steps as skipped whatever <see cref="GradientMonitorOptions.SkipNonFiniteSteps"/> says.</summary>
    public bool SkipsNonFiniteSteps => _policy.SkipsNonFiniteSteps;

    public ClippingOutcome Run(LayerGradientStatistics[] layers, bool nonFinite, IGradientClippingTarget target)
    {
        var context = new ClippingContext([.. layers.Select(l => l.Gradient)], nonFinite, target);
        if (nonFinite)
        {
            // Never touch the gradients of a non-finite step: they stay as backward left them, for inspection.
            // The reported total is NaN or +Infinity, as clip_grad_norm_ would report it in any norm type.
            _policy.Apply(context);
            double total = layers.Aggregate(default(TensorStatistics), (all, l) => TensorStatistics.Combine(all, l.Gradient)).L2Norm;
            return new ClippingOutcome(total, total, 1, false, context.SkipStep, Ran: false);
        }

        double before = context.TotalNorm(_normType);
        _policy.Apply(context);
        context.Finish();
        double after = context.TotalNorm(_normType);
        return new ClippingOutcome(before, after, context.Coefficient, context.Acted, context.SkipStep, Ran: true);
    }
}
