using System.Globalization;
using System.Text;

namespace GradientDiagnostics;

/// <summary>
/// Fires when the loss, a gradient or (when measured) a weight holds NaN or ±Infinity. It names the loss when the
/// loss is non-finite (every gradient then is too), otherwise the layer closest to the loss whose gradients are
/// non-finite, otherwise the layer closest to the loss whose weights are, with counts.
/// </summary>
/// <remarks>
/// A new episode (the step before was finite) or a new source (a different layer or the loss) always fires, so
/// isolated faults are each reported. The same source on consecutive steps, the signature of a diverged run, fires
/// again only once <see cref="DetectorOptions.CooldownSteps"/> steps have passed.
/// </remarks>
internal sealed class NonFiniteGradientDetector(NonFiniteOptions options) : IGradientDetector
{
    private const int LayersListed = 5;
    private const string WeightsSourcePrefix = "weights of ";
    private readonly AlertGate _gate = new(options);
    private readonly NonFiniteWeightsHistory _weights = new();

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        LayerGradientStatistics[] layers = evidence.Layers;
        bool lossNonFinite = evidence.Loss is double loss && !double.IsFinite(loss);
        int closestGradient = -1, closestWeights = -1, gradientsAffected = 0, weightsAffected = 0;
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            if (!layers[i].Gradient.IsFinite)
            {
                closestGradient = closestGradient < 0 ? i : closestGradient;
                gradientsAffected++;
            }

            if (evidence.Layers[i].Parameters is TensorStatistics { IsFinite: false })
            {
                closestWeights = closestWeights < 0 ? i : closestWeights;
                weightsAffected++;
            }
        }

        bool weightsNonFinite = _weights.Observe(evidence.Step, weightsAffected);
        if (evidence.LossScaleProbeOverflow && !lossNonFinite && weightsAffected == 0)
        {
            // Dynamic loss scaling overflows on purpose now and then, and backs off (the loss scale's metric, TensorBoard
            // scalar and report strip show it). Only an overflow at a scale of 1 or less is the model's, and alerts.
            return;
        }

        string? source = lossNonFinite ? GradientAlert.LossLayerName
            : closestGradient >= 0 ? layers[closestGradient].Name
            : closestWeights >= 0 ? WeightsSourcePrefix + layers[closestWeights].Name
            : null;
        if (!_gate.ObserveSource(evidence.Step, source))
        {
            return;
        }

        var message = new StringBuilder();
        if (weightsNonFinite)
        {
            message.Append(_weights.Describe(evidence));
        }

        if (lossNonFinite)
        {
            message.Append(CultureInfo.InvariantCulture, $"The loss is {evidence.Loss!.Value}. ");
        }

        AppendAffected(message, evidence, gradientsAffected, "gradients", i => layers[i].Gradient);
        AppendAffected(message, evidence, weightsAffected, "weights", i => evidence.Layers[i].Parameters);

        var diagnosis = new Diagnosis();
        // Non-finite weights make the first module that uses them look like the origin: its inputs are finite, its output
        // is not. The weights are the cause, so no forward module is named.
        string? origin = weightsNonFinite ? null : evidence.ForwardOrigin;
        if (origin is not null)
        {
            message.Append(CultureInfo.InvariantCulture, $"The first non-finite value was first produced by `{origin}` in the forward pass (its inputs were ")
                .Append(CultureInfo.InvariantCulture, $"finite). ");
            diagnosis.Add(GradientAlertCause.ForwardOperation,
                $"an operation in `{origin}` that overflows or is undefined for some inputs (log or sqrt of a value ≤ 0, division by ~0, exp of a large value)",
                GradientAlertFix.GuardOperation, $"guard that operation in `{origin}` (clamp its input, add an epsilon) and check the batch that reached it");
        }

        if (weightsNonFinite)
        {
            NonFiniteWeightsHistory.AddCauses(evidence, diagnosis);
        }

        diagnosis
            .Add(GradientAlertCause.LearningRateTooHigh, "a learning rate too high, so the weights or activations overflowed",
                GradientAlertFix.LowerLearningRate, "skip the step (SkipNonFiniteSteps, on by default) and lower the learning rate")
            .Add(GradientAlertCause.LossOverflow, "an overflow in the loss (log(0), exp of a large value, division by ~0)",
                GradientAlertFix.CheckLoss, "check the loss for log(0) and division by zero; clip gradients")
            .Add(GradientAlertCause.BadInputData, "bad input data (NaN or Inf in a batch)", GradientAlertFix.CheckData, "check the data");

        string evidenceText = message.ToString().TrimEnd() + " The step must not be applied.";
        if (lossNonFinite)
        {
            alerts.Add(diagnosis.ToAlert(GradientAlertKind.NonFinite, GradientAlertSeverity.Critical, evidence.Step, GradientAlert.LossLayerName,
                GradientMetricNames.Loss, evidence.Loss!.Value, double.MaxValue, evidenceText, origin));
        }
        else if (closestGradient >= 0)
        {
            alerts.Add(diagnosis.ToAlert(GradientAlertKind.NonFinite, GradientAlertSeverity.Critical, evidence.Step, layers[closestGradient].Name,
                GradientMetricNames.NonFiniteGradientCount, layers[closestGradient].Gradient.NonFiniteCount, 0, evidenceText, origin));
        }
        else
        {
            alerts.Add(diagnosis.ToAlert(GradientAlertKind.NonFinite, GradientAlertSeverity.Critical, evidence.Step, layers[closestWeights].Name,
                GradientMetricNames.NonFiniteWeightCount, evidence.Layers[closestWeights].Parameters!.Value.NonFiniteCount, 0, evidenceText, origin));
        }
    }

    private static void AppendAffected(StringBuilder message, StepEvidence evidence, int affected, string what, Func<int, TensorStatistics?> statistics)
    {
        if (affected == 0)
        {
            return;
        }

        LayerGradientStatistics[] layers = evidence.Layers;
        message.Append(CultureInfo.InvariantCulture, $"{affected} of {layers.Length} layers have non-finite {what}, closest to the loss first:");
        int listed = 0;
        for (int i = layers.Length - 1; i >= 0 && listed < LayersListed; i--)
        {
            if (statistics(i) is TensorStatistics { IsFinite: false } s)
            {
                message.Append(CultureInfo.InvariantCulture, $" '{layers[i].Name}' ({s.NaNCount} NaN, {s.InfinityCount} Inf of {s.ElementCount})");
                message.Append(++listed < Math.Min(affected, LayersListed) ? ',' : '.');
            }
        }

        if (affected > LayersListed)
        {
            message.Append(CultureInfo.InvariantCulture, $" And {affected - LayersListed} more.");
        }

        message.Append(' ');
    }

    public ComponentState SaveState(IReadOnlyList<string> layerNames) => _weights.SaveState(new ComponentState().With("gate", _gate));

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("gate", _gate);
        _weights.LoadState(state);
    }
}
