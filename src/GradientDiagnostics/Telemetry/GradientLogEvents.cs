namespace GradientDiagnostics;

/// <summary>
/// The stable <see cref="Microsoft.Extensions.Logging.EventId"/> numbers the monitor logs with. Alerts log with one id
/// per <see cref="GradientAlertKind"/>; the self-diagnostics (failures of the library itself) have ids from 1900.
/// </summary>
public static class GradientLogEvents
{
    /// <summary>A <see cref="GradientAlertKind.Vanishing"/> alert (EventName <c>VanishingGradient</c>).</summary>
    public const int VanishingGradient = 1000;

    /// <summary>An <see cref="GradientAlertKind.Exploding"/> alert (EventName <c>ExplodingGradient</c>).</summary>
    public const int ExplodingGradient = 1001;

    /// <summary>A <see cref="GradientAlertKind.NonFinite"/> alert (EventName <c>NonFiniteGradient</c>).</summary>
    public const int NonFiniteGradient = 1002;

    /// <summary>An <c>AlertRaised</c> subscriber threw; logged once per subscriber (EventName <c>AlertHandlerFailed</c>).</summary>
    public const int AlertHandlerFailed = 1900;

    /// <summary>A probed layer's forward hook did not run on a full-statistics step, although other layers were
    /// captured: its parent most likely calls <c>child.forward(x)</c> instead of <c>child.call(x)</c>, which bypasses
    /// hooks. Logged once per layer (EventName <c>LayerOutputNotCaptured</c>).</summary>
    public const int LayerOutputNotCaptured = 1901;
}
