using Microsoft.Extensions.Logging;

namespace GradientDiagnostics.Adapters;

/// <summary>The framework-free half of a gradient-flow preflight: the options one pass is judged with, the analyzer's
/// single step on the adapter's pass (<see cref="IGradientFlowPass"/>), and the result built from it.</summary>
public static class GradientFlowPreflight
{
    /// <summary>Validates the user's options, runs the adapter's pass once, judges it with the detectors (each persistent
    /// detector on this one step, 1 of 1) and returns the verdict.</summary>
    /// <param name="layers">The layers in forward order, as the pass measures them.</param>
    /// <param name="configure">The user's configuration, as for the monitor; null for the defaults.</param>
    /// <param name="pass">The adapter's pass; measured only after the options were validated.</param>
    /// <param name="logger">Where the findings are logged; nothing is logged when null.</param>
    /// <returns>The depth gain, its verdict, the per-layer statistics, the findings and the float16 check.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> or <paramref name="pass"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Options are out of range; the message names each.</exception>
    public static GradientFlowCheckResult Check(
        IReadOnlyList<LayerDescriptor> layers, Action<GradientMonitorOptions>? configure, IGradientFlowPass pass, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(pass);
        GradientMonitorOptions options = CreateOptions(configure);
        GradientFlowMeasurement measured = pass.Measure();
        Float16GradientCheck? float16 = measured.Gradients.Count == 0
            ? null
            : Float16GradientCheck.Measure([.. layers.Select(l => l.Name)], measured.Gradients, LargestOutputGradientNorm(measured.Observations.Span));
        using var analyzer = new GradientAnalyzer(layers, options, logger);
        GradientStepResult step = analyzer.Analyze(measured.Observations.Span, measured.Loss);
        return ToResult(step, options, measured.UnprobedLayers, float16);
    }

    /// <summary>As <see cref="Check(IReadOnlyList{LayerDescriptor}, Action{GradientMonitorOptions}, IGradientFlowPass, ILogger)"/>,
    /// with the user's options object (a preset such as <see cref="GradientMonitorOptions.Quiet"/>): its values are copied,
    /// validated and adjusted for the one pass; the object itself is not changed.</summary>
    /// <param name="layers">The layers in forward order, as the pass measures them.</param>
    /// <param name="options">The user's options.</param>
    /// <param name="pass">The adapter's pass; measured only after the options were validated.</param>
    /// <param name="logger">Where the findings are logged; nothing is logged when null.</param>
    /// <returns>The depth gain, its verdict, the per-layer statistics, the findings and the float16 check.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/>, <paramref name="options"/> or <paramref name="pass"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Options are out of range; the message names each.</exception>
    public static GradientFlowCheckResult Check(
        IReadOnlyList<LayerDescriptor> layers, GradientMonitorOptions options, IGradientFlowPass pass, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Check(layers, copy => OptionCopy.Values(options, copy), pass, logger);
    }

    /// <summary>The largest finite probed ‖∂L/∂y‖₂, which bounds the back-propagated values the gradients do not show; 0
    /// when none was probed.</summary>
    private static double LargestOutputGradientNorm(ReadOnlySpan<LayerObservation> observations)
    {
        double largest = 0;
        foreach (LayerObservation observation in observations)
        {
            if (observation.OutputGradientNorm is double norm && double.IsFinite(norm))
            {
                largest = Math.Max(largest, norm);
            }
        }

        return largest;
    }

    /// <summary>The user's options (validated as given, so messages name the user's option paths), adjusted for a single
    /// pass: every persistent detector judges this one step (1 of 1), layer outputs are probed, nothing is clipped, and no
    /// telemetry output is written (the preflight returns its findings instead).</summary>
    /// <param name="configure">The user's configuration, as for the monitor; null for the defaults.</param>
    /// <returns>New options for the preflight's analyzer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    internal static GradientMonitorOptions CreateOptions(Action<GradientMonitorOptions>? configure)
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
    /// <param name="step">The step the preflight's analyzer returned.</param>
    /// <param name="options">The options from <c>CreateOptions</c>, whose thresholds give the verdict.</param>
    /// <param name="unprobed">The layers whose output gradient could not be probed.</param>
    /// <param name="float16">What float16 would do to the same pass's gradients (<see cref="Float16GradientCheck.Measure"/>);
    /// null when not measured (an empty check).</param>
    /// <returns>The depth gain, its verdict, the per-layer statistics, the findings and the float16 check.</returns>
    internal static GradientFlowCheckResult ToResult(
        GradientStepResult step, GradientMonitorOptions options, IReadOnlyList<string> unprobed, Float16GradientCheck? float16 = null)
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
        };
    }
}
