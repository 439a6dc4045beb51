namespace GradientDiagnostics;

/// <summary>
/// Runs one monitor's clipping policy at each step, after the statistics and the detectors: decides from the measured
/// statistics, applies through the adapter's <see cref="IGradientClippingTarget"/>, and reports the norms before and after
/// (read by <see cref="PersistentClippingDetector"/> through <see cref="StepEvidence.Clipping"/>). Non-finite steps are
/// handled here, once, for every policy: no policy runs, so no gradient changes.
/// </summary>
internal sealed class ClippingStage
{
    private readonly IClippingPolicy _policy;
    private readonly double _normType;
    private readonly bool _skipsNonFiniteSteps;

    public ClippingStage(GradientClipping description, IReadOnlyList<string> layerNames)
    {
        _policy = description.Bind(layerNames);
        _normType = description.GlobalNormType ?? 2;
        _skipsNonFiniteSteps = description.SkipsNonFiniteSteps;
    }

    public ClippingOutcome Run(LayerGradientStatistics[] layers, bool nonFinite, IGradientClippingTarget target)
    {
        if (nonFinite)
        {
            // Never touch the gradients of a non-finite step: they stay as backward left them, for inspection.
            // The reported total is NaN or +Infinity, as clip_grad_norm_ would report it in any norm type.
            double total = layers.Aggregate(default(TensorStatistics), (all, l) => TensorStatistics.Combine(all, l.Gradient)).L2Norm;
            return new ClippingOutcome(total, total, 1, false, _skipsNonFiniteSteps, Ran: false);
        }

        var context = new ClippingContext([.. layers.Select(l => l.Gradient)], target);
        double before = context.TotalNorm(_normType);
        _policy.Apply(context);
        context.Finish();
        double after = context.TotalNorm(_normType);
        for (int i = 0; i < layers.Length; i++)
        {
            // Exact without a second read: scalings are tracked, element-wise changes were measured again by Finish.
            layers[i].GradientNormAfterClipping = context.Layer(i).L2Norm;
        }

        return new ClippingOutcome(before, after, context.Coefficient, context.Acted, SkipStep: false, Ran: true);
    }

    public ComponentState SaveState() => _policy.SaveState();

    public void LoadState(ComponentState state) => _policy.LoadState(state);
}
