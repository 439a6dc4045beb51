namespace GradientDiagnostics;

/// <summary>The kind → EventId → log message → metric tag mapping, gathered from the registered detectors' options
/// (<see cref="DetectorOptions.AlertEvent"/>) and from the kinds raised outside a detector (listed here).
/// It covers every <see cref="GradientAlertKind"/> (docs/contributing.md); a kind it does not know is never logged under
/// another kind's id.</summary>
internal static class AlertKindEvents
{
    private static readonly Dictionary<GradientAlertKind, AlertKindEvent> ByKind = Build();

    /// <summary>Every mapped kind.</summary>
    public static IReadOnlyCollection<AlertKindEvent> All => ByKind.Values;

    /// <summary>The mapping of <paramref name="kind"/>; false when it has none.</summary>
    public static bool TryGet(GradientAlertKind kind, out AlertKindEvent mapping) => ByKind.TryGetValue(kind, out mapping!);

    private static Dictionary<GradientAlertKind, AlertKindEvent> Build()
    {
        // Kinds raised outside a detector.
        AlertKindEvent[] others = [RecoveryPolicy.AlertEvent];
        return new GradientMonitorOptions().Detectors.Select(d => d.Options.AlertEvent).Concat(others).ToDictionary(e => e.Kind);
    }
}
