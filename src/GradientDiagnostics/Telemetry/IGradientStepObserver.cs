namespace GradientDiagnostics.Adapters;

/// <summary>A telemetry output fed by <see cref="GradientAnalyzer"/> after each step's result is built: metrics,
/// the summary log line, JSON Lines, the report history, TensorBoard, or one an adapter adds with
/// <see cref="GradientAnalyzer.AddStepObserver"/>. Observers only consume results; one that throws is logged once
/// (EventId <see cref="GradientLogEvents.TelemetryOutputFailed"/> and <see cref="GradientSelfLog"/>), disposed and
/// switched off, never thrown into the training loop. The analyzer disposes its observers when it is disposed.</summary>
public interface IGradientStepObserver : IDisposable
{
    /// <summary>Consumes one step.</summary>
    /// <param name="result">The step's result, alerts included.</param>
    /// <param name="overheadSeconds">The monitor's own time for this step, telemetry excluded, in seconds.</param>
    void OnStep(GradientStepResult result, double overheadSeconds);
}
