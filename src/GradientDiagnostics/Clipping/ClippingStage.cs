using System.Globalization;

namespace GradientDiagnostics;

/// <summary>
/// Runs one monitor's clipping policy at each step, after the statistics and the detectors: decides from the measured
/// statistics, applies through the adapter's <see cref="IGradientClippingTarget"/>, reports the norms before and after,
/// and raises <see cref="GradientAlertKind.PersistentClipping"/> when clipping acts on almost every step.
/// </summary>
internal sealed class ClippingStage
{
    private readonly GradientClipping _policy;
    private readonly double _normType;
    private readonly AlertGate? _gate;
    private readonly PersistentClippingOptions _alertOptions;
    private ulong _recent;

    public ClippingStage(GradientClipping policy, IReadOnlyList<string> layerNames, PersistentClippingOptions alertOptions)
    {
        _policy = policy.Bind(layerNames);
        _normType = _policy.GlobalNormType ?? 2;
        _alertOptions = alertOptions;
        _gate = alertOptions.Enabled ? new AlertGate(alertOptions) : null;
    }

    /// <summary>Whether the policy marks non-finite steps as skipped whatever <see cref="GradientMonitorOptions.SkipNonFiniteSteps"/> says.</summary>
    public bool SkipsNonFiniteSteps => _policy.SkipsNonFiniteSteps;

    public ClippingOutcome Run(long step, LayerGradientStatistics[] layers, bool nonFinite, IGradientClippingTarget target, List<GradientAlert> alerts)
    {
        var context = new ClippingContext([.. layers.Select(l => l.Gradient)], nonFinite, target);
        if (nonFinite)
        {
            // Never touch the gradients of a non-finite step: they stay as backward left them, for inspection.
            // The reported total is NaN or +Infinity, as clip_grad_norm_ would report it in any norm type.
            _policy.Apply(context);
            double total = layers.Aggregate(default(TensorStatistics), (all, l) => TensorStatistics.Combine(all, l.Gradient)).L2Norm;
            return new ClippingOutcome(total, total, 1, false, context.SkipStep);
        }

        double before = context.TotalNorm(_normType);
        _policy.Apply(context);
        context.Finish();
        double after = context.TotalNorm(_normType);
        Watch(step, context.Acted, alerts);
        return new ClippingOutcome(before, after, context.Coefficient, context.Acted, context.SkipStep);
    }

    private void Watch(long step, bool acted, List<GradientAlert> alerts)
    {
        int window = _alertOptions.PersistenceWindow;
        _recent = ((_recent << 1) | (acted ? 1UL : 0UL)) & (window >= 64 ? ulong.MaxValue : (1UL << window) - 1);
        if (_gate is null || !_gate.Observe(step, acted))
        {
            return;
        }

        double fraction = (double)ulong.PopCount(_recent) / window;
        double threshold = (double)_alertOptions.Persistence / window;
        alerts.Add(new GradientAlert(GradientAlertKind.PersistentClipping, GradientAlertSeverity.Warning, step, GradientAlert.GlobalLayerName,
            GradientMetricNames.ClippingActiveFraction, fraction, threshold,
            string.Create(CultureInfo.InvariantCulture,
                $"Clipping changed the gradients on {ulong.PopCount(_recent)} of the last {window} steps: its threshold is below this model's typical gradient norm, so it acts as a hidden cut of the learning rate rather than a guard against spikes. Raise maxNorm (a value near the median pre-clip norm, NormBeforeClipping, is a common choice), or use AutoClip or ZScore, which follow the norm's own history.")));
    }
}
