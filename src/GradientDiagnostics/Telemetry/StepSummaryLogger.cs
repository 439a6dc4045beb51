using Microsoft.Extensions.Logging;

namespace GradientDiagnostics;

/// <summary>Logs one summary line (EventId <see cref="GradientLogEvents.StepSummary"/>) every
/// <see cref="TelemetryOptions.SummaryInterval"/> steps: global norm, worst layer, clip status.</summary>
internal sealed class StepSummaryLogger(ILogger logger, int interval) : IGradientStepObserver
{
    public void OnStep(GradientStepResult result, double overheadSeconds)
    {
        if (result.Step % interval != 0 || !logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        (string worstLayer, double worstNorm) = WorstLayer(result.Layers);
        string clipStatus = ClippingTelemetry.Status(result);
        Log.StepSummary(logger, result.Step, result.GlobalNorm, worstLayer, worstNorm, clipStatus, result.Alerts.Count);
    }

    public void Dispose()
    {
    }

    /// <summary>The layer whose gradient norm is farthest, in orders of magnitude, from the median layer's: the one
    /// that vanishes or explodes most relative to the rest of the network. A non-finite layer is always the worst.</summary>
    internal static (string Name, double Norm) WorstLayer(IReadOnlyList<LayerGradientStatistics> layers)
    {
        if (layers.Count == 0)
        {
            return ("(none)", double.NaN);
        }

        Span<double> logs = layers.Count <= 256 ? stackalloc double[layers.Count] : new double[layers.Count];
        int finite = 0;
        foreach (LayerGradientStatistics layer in layers)
        {
            if (!double.IsFinite(layer.GradientNorm))
            {
                return (layer.Name, layer.GradientNorm);
            }

            if (layer.GradientNorm > 0)
            {
                logs[finite++] = Math.Log10(layer.GradientNorm);
            }
        }

        if (finite == 0)
        {
            return (layers[0].Name, layers[0].GradientNorm);
        }

        Span<double> sorted = logs[..finite];
        sorted.Sort();
        double median = sorted[finite / 2];
        LayerGradientStatistics worst = layers[0];
        double worstDistance = -1;
        foreach (LayerGradientStatistics layer in layers)
        {
            // A zero norm (a layer that got no gradient at all) is as far from the median as it gets.
            double distance = layer.GradientNorm > 0 ? Math.Abs(Math.Log10(layer.GradientNorm) - median) : double.MaxValue;
            if (distance > worstDistance)
            {
                (worst, worstDistance) = (layer, distance);
            }
        }

        return (worst.Name, worst.GradientNorm);
    }
}
