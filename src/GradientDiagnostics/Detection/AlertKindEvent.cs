namespace GradientDiagnostics;

/// <summary>How the alerts of one <see cref="GradientAlertKind"/> are logged and counted: EventId 1000 + the kind's
/// value (<see cref="GradientLogEvents"/>), its EventName, and whether the message speaks of a gradient. Each detector's
/// options declare the kinds they raise; <see cref="AlertKindEvents"/> gathers them.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="EventName">The EventName: the kind's name, for example <c>Vanishing</c>.</param>
/// <param name="AboutGradient">Whether the log message reads "{Kind} gradient at step …" (else "{Kind} at step …").</param>
internal sealed record AlertKindEvent(GradientAlertKind Kind, string EventName, bool AboutGradient)
{
    /// <summary>The EventId of the first kind (<see cref="GradientAlertKind.Vanishing"/>).</summary>
    public const int FirstEventId = 1000;

    /// <summary>The EventId: 1000 + the kind's value.</summary>
    public int EventId => FirstEventId + (int)Kind;

    /// <summary>The tag value of the kind on the alerts counter (<see cref="GradientTelemetryInstruments.AlertKindTag"/>).</summary>
    public string MetricTag => Kind.ToString();
}
