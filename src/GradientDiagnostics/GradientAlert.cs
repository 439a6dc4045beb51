namespace GradientDiagnostics;

/// <summary>One finding of the monitor at one step: what is wrong, where, by how much, and what to do about it.</summary>
public sealed class GradientAlert
{
    private IReadOnlyList<GradientAlertCriterion>? _criteria;

    /// <summary>Creates an alert.</summary>
    /// <param name="kind">What the alert is about.</param>
    /// <param name="severity">How serious it is.</param>
    /// <param name="step">The monitor step (0-based count of <c>Step()</c> calls) at which it was detected.</param>
    /// <param name="layer">The layer's module path, or <see cref="GlobalLayerName"/> / <see cref="LossLayerName"/>.</param>
    /// <param name="metric">The name of the measured quantity, one of <see cref="GradientMetricNames"/>.</param>
    /// <param name="value">The measured value of <paramref name="metric"/>.</param>
    /// <param name="threshold">The threshold the value crossed.</param>
    /// <param name="message">A human-readable explanation with the likely cause and a fix.</param>
    public GradientAlert(GradientAlertKind kind, GradientAlertSeverity severity, long step, string layer, string metric, double value, double threshold,
        string message)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentNullException.ThrowIfNull(message);
        Kind = kind;
        Severity = severity;
        Step = step;
        Layer = layer;
        Metric = metric;
        Value = value;
        Threshold = threshold;
        Message = message;
    }

    /// <summary>The <see cref="Layer"/> of an alert about the whole network (for example the global norm).</summary>
    public const string GlobalLayerName = "(global)";

    /// <summary>The <see cref="Layer"/> of an alert about the loss value.</summary>
    public const string LossLayerName = "(loss)";

    /// <summary>What the alert is about.</summary>
    public GradientAlertKind Kind { get; }

    /// <summary>How serious the alert is; it sets the log level.</summary>
    public GradientAlertSeverity Severity { get; }

    /// <summary>The monitor step at which the alert was detected: the 0-based count of <c>Step()</c> calls.</summary>
    public long Step { get; }

    /// <summary>The layer the alert is about: its module path (for example <c>layers.3</c>), or
    /// <see cref="GlobalLayerName"/> or <see cref="LossLayerName"/>.</summary>
    public string Layer { get; }

    /// <summary>The measured quantity, one of the constants in <see cref="GradientMetricNames"/>.</summary>
    public string Metric { get; }

    /// <summary>The measured value of <see cref="Metric"/> at <see cref="Step"/>.</summary>
    public double Value { get; }

    /// <summary>The threshold that <see cref="Value"/> crossed.</summary>
    public double Threshold { get; }

    /// <summary>What is wrong, where and how badly in a one-line first sentence; then the evidence, the likely causes and
    /// concrete fixes. Numbers have 3 significant digits; <see cref="Criteria"/> holds them at full precision.</summary>
    public string Message { get; }

    /// <summary>The likely causes, most likely first, chosen from the evidence the monitor holds (the layer's last measured
    /// weight scale against the Xavier / He expectation, the activation that follows it, the network's depth), each with
    /// its identifier (<see cref="GradientAlertCause.Id"/>, one of the constants of <see cref="GradientAlertCause"/>) and
    /// the same text as in <see cref="Message"/>. Empty for an alert built by user code.</summary>
    public IReadOnlyList<GradientAlertCause> Causes { get; internal init; } = [];

    /// <summary>Concrete fixes, one per cause, in the order of <see cref="Causes"/>, each with its identifier
    /// (<see cref="GradientAlertFix.Id"/>) and the same text as in <see cref="Message"/>. Empty for an alert built by user
    /// code.</summary>
    public IReadOnlyList<GradientAlertFix> Fixes { get; internal init; } = [];

    /// <summary>Every criterion that fired for this alert, the headline one (<see cref="Metric"/>, <see cref="Value"/>,
    /// <see cref="Threshold"/>) first: a detector whose criteria cross on one layer at one step (a vanishing layer whose
    /// mean |g|, ratio to later layers and depth gain are all below their thresholds) raises one alert with all of them.
    /// One entry, the headline, for an alert built by user code.</summary>
    public IReadOnlyList<GradientAlertCriterion> Criteria
    {
        get => _criteria ??= [new GradientAlertCriterion(Metric, Value, Threshold)];
        internal init => _criteria = value;
    }

    /// <summary>For a <see cref="GradientAlertKind.NonFinite"/> alert with
    /// <see cref="NonFiniteOptions.TraceOrigin"/> on: the module path whose forward output was the first
    /// non-finite one in the step's forward pass, in forward order, while its inputs were finite (the producer of the
    /// NaN / ±Infinity, for example <c>block3.norm</c>). Null when the forward pass was finite (the NaN arose in backward
    /// or in the gradients), when origin tracing is off, and for every other alert.</summary>
    public string? Origin { get; internal init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"[{Severity}] {Kind} at step {Step}, layer {Layer}: {Metric} = {MessageNumber.Format(Value)} (threshold {MessageNumber.Format(Threshold)}). {Message}";
}
