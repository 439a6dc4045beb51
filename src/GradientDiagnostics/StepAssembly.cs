namespace GradientDiagnostics;

/// <summary>
/// The two ends of <see cref="GradientAnalyzer.Analyze"/> that are plain data assembly: one step's observations
/// turned into unscaled per-layer statistics, and the step's evidence and decisions gathered into its result. Kept out of
/// the analyzer so its step method reads as the pipeline (detect, clip, detect after clipping, recover, publish).
/// </summary>
internal static class StepAssembly
{
    /// <summary>Each layer's observation divided by the loss scale (1 without loss scaling) and named.</summary>
    /// <param name="layers">One observation per layer, in forward order; as many as <paramref name="names"/>.</param>
    /// <param name="names">The layers' names in forward order.</param>
    /// <param name="lossScale">The scale the observed gradients carry.</param>
    /// <param name="all">The unscaled gradient statistics over every layer.</param>
    /// <returns>The per-layer statistics, in forward order.</returns>
    public static LayerGradientStatistics[] Measure(ReadOnlySpan<LayerObservation> layers, string[] names, double lossScale, out TensorStatistics all)
    {
        var statistics = new LayerGradientStatistics[layers.Length];
        all = default;
        for (int i = 0; i < layers.Length; i++)
        {
            LayerObservation o = GradientUnscaling.Unscale(layers[i], lossScale);
            statistics[i] = new LayerGradientStatistics
            {
                Index = i,
                Name = names[i],
                Gradient = o.Gradient,
                OutputGradientNorm = o.OutputGradientNorm,
                Parameters = o.Parameters,
                ParameterUpdateNorm = o.ParameterUpdateNorm,
                Activations = o.Activations,
                ParameterFormat = o.ParameterFormat,
                UnderflowFraction = o.SixteenBitGradient?.UnderflowFraction,
                OverflowHeadroomBits = o.SixteenBitGradient?.OverflowHeadroomBits,
                LostUpdateFraction = o.LostUpdateFraction,
            };
            all = TensorStatistics.Combine(all, o.Gradient);
        }

        return statistics;
    }

    /// <summary>The step's result from its evidence (step, loss, norms, layers, depth gain), alerts, clipping outcome and
    /// the skip and rollback decisions.</summary>
    /// <param name="evidence">The evidence the detectors judged.</param>
    /// <param name="kind">Whether the step was a full-statistics step.</param>
    /// <param name="alerts">The step's alerts, in the order raised.</param>
    /// <param name="clipped">The clipping outcome; null when nothing was clipped.</param>
    /// <param name="skipStep">Whether the optimizer step must not run.</param>
    /// <param name="rolledBackTo">The step whose snapshot recovery restores; null when none.</param>
    /// <param name="lossScale">The loss scale the step's gradients were measured at.</param>
    /// <returns>The step's result.</returns>
    public static GradientStepResult Result(StepEvidence evidence, GradientStepKind kind, List<GradientAlert> alerts, ClippingOutcome? clipped, bool skipStep,
        long? rolledBackTo, double lossScale) => new()
    {
        Step = evidence.Step,
        Kind = kind,
        GlobalNorm = evidence.GlobalNorm,
        Loss = evidence.Loss,
        SkipStep = skipStep,
        RolledBackToStep = rolledBackTo,
        Layers = evidence.Layers,
        DepthGain = evidence.DepthGain,
        ProbedLayerCount = evidence.ProbedLayers,
        DepthGainOverDepth = evidence.DepthGainOverDepth,
        Alerts = alerts,
        TimeProfiles = evidence.TimeProfiles,
        NormBeforeClipping = clipped?.NormBefore,
        NormAfterClipping = clipped?.NormAfter,
        ClippingCoefficient = clipped?.Coefficient ?? 1,
        ClippingActed = clipped?.Acted ?? false,
        LossScale = lossScale,
    };
}
