namespace GradientDiagnostics;

/// <summary>What the monitor found at one step, and what the training loop should do.</summary>
public sealed class GradientStepResult
{
    /// <summary>Creates a step result.</summary>
    /// <param name="step">The 0-based monitor step.</param>
    /// <param name="globalNorm">The L2 norm over all gradients before any change.</param>
    /// <param name="loss">The loss value, when it was given.</param>
    /// <param name="skipStep">Whether the optimizer step must not run.</param>
    /// <param name="layers">Per-layer statistics in forward order.</param>
    /// <param name="alerts">The alerts raised at this step.</param>
    public GradientStepResult(long step, double globalNorm, double? loss, bool skipStep, IReadOnlyList<LayerGradientStatistics> layers, IReadOnlyList<GradientAlert> alerts)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(alerts);
        Step = step;
        GlobalNorm = globalNorm;
        Loss = loss;
        SkipStep = skipStep;
        Layers = layers;
        Alerts = alerts;
    }

    /// <summary>The monitor step: the 0-based count of <c>Step()</c> calls.</summary>
    public long Step { get; }

    /// <summary>The L2 norm over all trainable gradients of the network, before any change; NaN or +Infinity when a
    /// gradient holds such values (never hidden).</summary>
    public double GlobalNorm { get; }

    /// <summary>The loss value given to <c>Step</c>, or <see langword="null"/> when none was given.</summary>
    public double? Loss { get; }

    /// <summary>True when the optimizer step must not run: the gradients or the loss are non-finite and
    /// <see cref="GradientMonitorOptions.SkipNonFiniteSteps"/> is on.</summary>
    public bool SkipStep { get; }

    /// <summary>Per-layer statistics, in forward order (index 0 is closest to the input).</summary>
    public IReadOnlyList<LayerGradientStatistics> Layers { get; }

    /// <summary>The alerts raised at this step, already logged and sent to <c>AlertRaised</c>.</summary>
    public IReadOnlyList<GradientAlert> Alerts { get; }
}
