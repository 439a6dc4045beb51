namespace GradientDiagnostics;

/// <summary>The framework-free half of a gradient-flow preflight: the options one pass is judged with, and the result
/// built from the analyzer's step.</summary>
internal static class GradientFlowPreflight
{
    /// <summary>The user's options (validated as given, so messages name the user's option paths), adjusted for a single
    /// pass: every persistent detector judges this one step (1 of 1), layer outputs are probed, nothing is clipped, and no
    /// telemetry output is written (the preflight returns its findings instead).</summary>
    public static GradientMonitorOptions CreateOptions(Action<GradientMonitorOptions>? configure)
    {
        var options = new GradientMonitorOptions();
        configure?.Invoke(options);
        options.Validate();
        foreach (PersistentDetectorOptions detector in options.PersistentDetectors)
        {
            (detector.Persistence, detector.PersistenceWindow) = (1, 1);
        }

        options.CaptureLayerOutputs = true;
        options.FullStatisticsInterval = 1;
        options.Clipping = null;
        options.Telemetry.Metrics = false;
        options.Telemetry.SummaryInterval = 0;
        options.Telemetry.JsonLinesPath = null;
        options.Telemetry.TensorBoardLogDirectory = null;
        return options;
    }

    /// <summary>The check's result from the analyzer's single step.</summary>
    public static GradientFlowCheckResult ToResult(GradientStepResult step, GradientMonitorOptions options, IReadOnlyList<string> unprobed, Float16GradientCheck? float16 = null)
    {
        int probed = step.ProbedLayerCount;
        return new GradientFlowCheckResult
        {
            DepthGain = step.DepthGain,
            Verdict = GradientFlowVerdicts.Classify(step.DepthGain, probed, options),
            Layers = step.Layers,
            Findings = step.Alerts,
            ProbedLayerCount = probed,
            UnprobedLayers = [.. unprobed],
            Loss = step.Loss ?? double.NaN,
            Float16 = float16 ?? new Float16GradientCheck([], null, null),
        };
    }
}
