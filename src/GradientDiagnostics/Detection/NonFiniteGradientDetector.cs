using System.Globalization;
using System.Text;

namespace GradientDiagnostics;

/// <summary>
/// Fires when the loss or a gradient holds NaN or ±Infinity. It names the loss when the loss is non-finite (every
/// gradient then is too), otherwise the layer closest to the loss whose gradients are non-finite, with counts.
/// </summary>
/// <remarks>
/// A new episode (the step before was finite) or a new source (a different layer or the loss) always fires, so
/// isolated faults are each reported. The same source on consecutive steps, the signature of a diverged run, fires
/// again only once <see cref="GradientDetectorOptions.CooldownSteps"/> steps have passed.
/// </remarks>
internal sealed class NonFiniteGradientDetector(NonFiniteGradientOptions options) : IGradientDetector
{
    private const int LayersListed = 5;
    private string? _previousSource;
    private long _lastFired = long.MinValue;

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        LayerGradientStatistics[] layers = evidence.Layers;
        bool lossNonFinite = evidence.Loss is double loss && !double.IsFinite(loss);
        LayerGradientStatistics? closestToLoss = null;
        int affected = 0;
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            if (!layers[i].Gradient.IsFinite)
            {
                closestToLoss ??= layers[i];
                affected++;
            }
        }

        string? source = lossNonFinite ? GradientAlert.LossLayerName : closestToLoss?.Name;
        bool fire = source is not null &&
            (source != _previousSource || _lastFired == long.MinValue || evidence.Step - _lastFired > options.CooldownSteps);
        _previousSource = source;
        if (!fire)
        {
            return;
        }

        _lastFired = evidence.Step;
        var message = new StringBuilder();
        if (lossNonFinite)
        {
            message.Append(CultureInfo.InvariantCulture, $"The loss is {evidence.Loss!.Value}. ");
        }

        if (affected > 0)
        {
            message.Append(CultureInfo.InvariantCulture, $"{affected} of {layers.Length} layers have non-finite gradients, closest to the loss first:");
            int listed = 0;
            for (int i = layers.Length - 1; i >= 0 && listed < LayersListed; i--)
            {
                TensorStatistics g = layers[i].Gradient;
                if (!g.IsFinite)
                {
                    message.Append(CultureInfo.InvariantCulture, $" '{layers[i].Name}' ({g.NaNCount} NaN, {g.InfinityCount} Inf of {g.ElementCount})");
                    message.Append(++listed < Math.Min(affected, LayersListed) ? ',' : '.');
                }
            }

            if (affected > LayersListed)
            {
                message.Append(CultureInfo.InvariantCulture, $" And {affected - LayersListed} more.");
            }

            message.Append(' ');
        }

        message.Append(Diagnosis.NonFinite);
        alerts.Add(lossNonFinite
            ? new GradientAlert(GradientAlertKind.NonFinite, GradientAlertSeverity.Critical, evidence.Step, GradientAlert.LossLayerName,
                GradientMetricNames.Loss, evidence.Loss!.Value, double.MaxValue, message.ToString())
            : new GradientAlert(GradientAlertKind.NonFinite, GradientAlertSeverity.Critical, evidence.Step, closestToLoss!.Name,
                GradientMetricNames.NonFiniteGradientCount, closestToLoss.Gradient.NonFiniteCount, 0, message.ToString()));
    }
}
