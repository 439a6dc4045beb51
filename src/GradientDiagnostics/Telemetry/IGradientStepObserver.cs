namespace GradientDiagnostics;

/// <summary>A telemetry output fed by <see cref="GradientAnalyzer"/> after each step's result is built: metrics,
/// the summary log line, JSON Lines, the report history, TensorBoard. Observers only consume results; a failing one
/// is logged once and skipped, never thrown into the training loop.</summary>
internal interface IGradientStepObserver : IDisposable
{
    /// <summary>Consumes one step.</summary>
    /// <param name="result">The step's result, alerts included.</param>
    /// <param name="overheadSeconds">The monitor's own time for this step, telemetry excluded, in seconds.</param>
    void OnStep(GradientStepResult result, double overheadSeconds);
}
