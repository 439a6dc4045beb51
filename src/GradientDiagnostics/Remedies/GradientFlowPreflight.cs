namespace GradientDiagnostics;

/// <summary>The framework-free half of a gradient-flow preflight: the options one pass is judged with, and the result
/// built from the analyzer's step. An adapter's preflight measures one forward and backward pass into observations, runs
/// a <see cref="GradientAnalyzer"/> with <see cref="CreateOptions"/> on them, and returns <see cref="ToResult"/>.</summary>
public static class GradientFlowPreflight
{
    /// <summary>The user's options (validated as given, so messages name the user's option paths), adjusted for a single
    /// pass: every persistent detector judges this one step (1 of 1), layer outputs are probed, nothing is clipped, and no
    /// telemetry output is written (the preflight returns its findings instead).</summary>
    /// <param name="configure">The user's configuration, as for the monitor; null for the defaults.</param>
    /// <returns>New options for the preflight's analyzer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
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
        options.ThroughTime.Interval = 1;
        options.Clipping = null;
        options.Telemetry.Metrics = false;
        options.Telemetry.SummaryInterval = 0;
        options.Telemetry.JsonLinesPath = null;
        options.Telemetry.TensorBoardLogDirectory = null;
        return options;
    }

    /// <summary>The check's result from the analyzer's single step.</summary>
    /// <param name="step">The step the preflight's analyzer returned.</param>
    /// <param name="options">The options from <see cref="CreateOptions"/>, whose thresholds give the verdict.</param>
    /// <param name="unprobed">The layers whose output gradient could not be probed.</param>
    /// <param name="float16">What float16 would do to the same pass's gradients (<see cref="Float16GradientCheck.Measure"/>);
    /// null when not measured (an empty check).</param>
    /// <returns>The depth gain, its verdict, the per-layer statistics, the findings and the float16 check.</returns>
    public static GradientFlowCheckResult ToResult(GradientStepResult step, GradientMonitorOptions options, IReadOnlyList<string> unprobed, Float16GradientCheck? float16 = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(unprobed);
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
            TimeProfiles = step.TimeProfiles,
        };
    }
}
