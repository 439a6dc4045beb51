using System.Globalization;

namespace GradientDiagnostics;

/// <summary>Turns what <see cref="BackwardGainScaling"/> did into the result a person reads: per-layer factors and reasons,
/// whether the activation limits the gain, and the message.</summary>
internal static class InitializationReport
{
    /// <summary>A gain within [1/1.1, 1.1] per layer counts as reached.</summary>
    public const double TargetBand = 1.1;

    public static GradientFlowInitializationResult Build(BackwardGainScaling scaling, double? before, double? after, int iterations,
        IReadOnlyList<string> unprobed, RecurrentRemedyOutcome? recurrent = null)
    {
        recurrent ??= RecurrentRemedyOutcome.None;
        IReadOnlyList<ScalingLayer> layers = scaling.Layers;
        var scales = new LayerWeightScale[layers.Count];
        var unprobedSet = new HashSet<string>(unprobed, StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
        {
            scales[i] = new LayerWeightScale
            {
                Name = layers[i].Descriptor.Name,
                Factor = scaling.TotalFactors[i],
                Rescalable = layers[i].Role == LayerScalingRole.Rescalable,
                Reason = Reason(scaling, i, unprobedSet.Contains(layers[i].Descriptor.Name)),
            };
        }

        bool reached = after is double a && a >= 1 / TargetBand && a <= TargetBand;
        string[] sigmoidPinned = [.. Enumerable.Range(0, layers.Count)
            .Where(i => scaling.IsPinnedHigh(i) && layers[i].Descriptor.FollowingActivation == ActivationKind.Sigmoid)
            .Select(i => layers[i].Descriptor.Name)];
        bool limited = !reached && after is double low && low < 1 && sigmoidPinned.Length > 0;
        return new GradientFlowInitializationResult
        {
            DepthGainBefore = before,
            DepthGainAfter = after,
            Layers = scales,
            LimitedByActivation = limited,
            Iterations = iterations,
            UnprobedLayers = [.. unprobed],
            GainPerStepBefore = recurrent.GainBefore,
            GainPerStepAfter = recurrent.GainAfter,
            RecurrentLayers = recurrent.Layers,
            Message = Message(scaling, scales, before, after, iterations, reached, limited, sigmoidPinned, unprobed) + recurrent.Describe(),
        };
    }

    private static string Reason(BackwardGainScaling scaling, int i, bool unprobed)
    {
        switch (scaling.Layers[i].Role)
        {
            case LayerScalingRole.Normalization:
                return "normalization layer: its affine scale is learned, left alone";
            case LayerScalingRole.FeedsNormalization:
                return "feeds a normalization layer, which divides its weight scale out: left alone";
            case LayerScalingRole.NotAWeightLayer:
                return "not a Linear or convolution layer with a trainable weight: left alone";
        }

        var steps = new List<string>();
        if (scaling.AnalyticScheme(i) is string scheme)
        {
            steps.Add($"{scheme} scale");
        }

        if (scaling.WasMeasured(i))
        {
            steps.Add(unprobed ? "not probed: corrected jointly with the layers up to the next probed one" : "measured backward-gain correction");
        }
        else
        {
            steps.Add(unprobed ? "not probed, so not measured" : "first probed layer: no earlier layer to measure its gain against");
        }

        if (scaling.IsPinnedHigh(i))
        {
            steps.Add("held at the largest scale applied");
        }

        return string.Join("; ", steps);
    }

    private static string Message(BackwardGainScaling scaling, LayerWeightScale[] scales, double? before, double? after, int iterations,
        bool reached, bool limited, string[] sigmoidPinned, IReadOnlyList<string> unprobed)
    {
        int rescaled = scales.Count(s => s.Rescalable && s.Factor != 1);
        string gains = string.Create(CultureInfo.InvariantCulture, $"Depth gain {Format(before)} -> {Format(after)} per layer");
        string what = string.Create(CultureInfo.InvariantCulture,
            $"rescaled the weights of {rescaled} of {scales.Length} layers (analytic He / Xavier scale where the activation is known, then {iterations} ") +
                string.Create(CultureInfo.InvariantCulture, $"round(s) of measured backward-gain correction; biases untouched).");
        string verdict;
        if (after is null)
        {
            verdict = "The gain could not be measured: fewer than two layers' output gradients were seen, so only the analytic scale was applied.";
        }
        else if (reached)
        {
            verdict = "The back-propagated signal now keeps its size from layer to layer.";
        }
        else if (limited)
        {
            verdict = string.Create(CultureInfo.InvariantCulture,
                $"LimitedByActivation: the sigmoid after {Join(sigmoidPinned)} caps the gain. Its derivative is at most 0.25, so a per-layer gain near 1 ") +
                    string.Create(CultureInfo.InvariantCulture, $"needs weights about ten times the Xavier scale, deep in saturation; at ") +
                    string.Create(CultureInfo.InvariantCulture, $"{BackwardGainScaling.MaxOverAnalytic}x the Xavier scale, the largest this remedy applies, ") +
                    string.Create(CultureInfo.InvariantCulture, $"the gain is {Format(after)}. The real fix is the activation: use ReLU or GELU (He init) ") +
                    string.Create(CultureInfo.InvariantCulture, $"or tanh (Xavier init) in the hidden layers, or add residual connections or normalization.");
        }
        else
        {
            string[] pinned = [.. Enumerable.Range(0, scales.Length).Where(scaling.IsPinnedHigh).Select(i => scales[i].Name)];
            verdict = string.Create(CultureInfo.InvariantCulture,
                $"The gain stays outside [{1 / TargetBand:F2}, {TargetBand:F2}]: weight scale alone does not set it here. ") +
                    string.Create(CultureInfo.InvariantCulture,
                    $"{(pinned.Length > 0 ? $"{Join(pinned)} reached the largest scale applied. " : string.Empty)}Residual paths, normalization and pooling ") +
                    string.Create(CultureInfo.InvariantCulture, $"shape the gain of this architecture.");
        }

        string left = scales.Any(s => !s.Rescalable) ? $" Left alone: {Join([.. scales.Where(s => !s.Rescalable).Select(s => s.Name)])} (see Layers for why)."
            : string.Empty;
        string unseen = unprobed.Count > 0 ? $" Not probed (their output gradient could not be seen, so they are outside the depth gain): {Join(unprobed)}."
            : string.Empty;
        return $"{gains}: {what} {verdict}{left}{unseen}";
    }

    private static string Format(double? gain) => gain is double g ? g.ToString("F3", CultureInfo.InvariantCulture) : "unknown";

    private static string Join(IReadOnlyList<string> names) =>
        names.Count <= 6 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(5))} and {names.Count - 5} more";
}
