namespace GradientDiagnostics;

/// <summary>How serious an alert is. It sets the log level: <see cref="Information"/> logs at Information,
/// <see cref="Warning"/> at Warning and <see cref="Critical"/> at Error.</summary>
public enum GradientAlertSeverity
{
    /// <summary>Worth knowing; training is not at risk yet.</summary>
    Information = 0,

    /// <summary>Training is likely impaired (a layer barely learns, or updates are far too large).</summary>
    Warning = 1,

    /// <summary>The step is corrupt (non-finite values); applying it would damage the weights.</summary>
    Critical = 2,
}
