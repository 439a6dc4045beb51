using System.Globalization;
using System.Text;

namespace GradientDiagnostics;

/// <summary>Fires when a gradient or the loss holds NaN or ±Infinity, naming the layer closest to the loss.</summary>
internal sealed class NonFiniteGradientDetector(NonFiniteGradientOptions options) : IGradientDetector
{
    private const int LayersListed = 5;
    private readonly AlertGate _gradients = new(options);
    private readonly AlertGate _loss = new(options);

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        if (_loss.Observe(evidence.Step, evidence.Loss is double loss && !double.IsFinite(loss)))
        {
            alerts.Add(new GradientAlert(
                GradientAlertKind.NonFinite, GradientAlertSeverity.Critical, evidence.Step, GradientAlert.LossLayerName,
                GradientMetricNames.Loss, evidence.Loss!.Value, double.MaxValue,
                string.Create(CultureInfo.InvariantCulture, $"The loss is {evidence.Loss.Value}. ") + Diagnosis.NonFinite));
        }

        LayerGradientStatistics[] layers = evidence.Layers;
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

        if (!_gradients.Observe(evidence.Step, affected > 0))
        {
            return;
        }

        var message = new StringBuilder();
        message.Append(CultureInfo.InvariantCulture, $"{affected} of {layers.Length} layers have non-finite gradients; closest to the loss first:");
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
            message.Append(CultureInfo.InvariantCulture, $" … and {affected - LayersListed} more.");
        }

        message.Append(' ').Append(Diagnosis.NonFinite);
        alerts.Add(new GradientAlert(
            GradientAlertKind.NonFinite, GradientAlertSeverity.Critical, evidence.Step, closestToLoss!.Name,
            GradientMetricNames.NonFiniteGradientCount, closestToLoss.Gradient.NonFiniteCount, 0, message.ToString()));
    }
}
