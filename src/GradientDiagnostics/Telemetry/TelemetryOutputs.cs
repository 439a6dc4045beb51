using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GradientDiagnostics;

/// <summary>
/// The analyzer's telemetry outputs, built from the options at attach: metrics, the summary line, JSON Lines, the
/// report history, and whatever the adapter adds (TensorBoard). Each step goes to every output; an output that throws
/// is logged once (EventId <see cref="GradientLogEvents.TelemetryOutputFailed"/>) and switched off, never thrown
/// into the training loop.
/// </summary>
internal sealed class TelemetryOutputs : IDisposable
{
    private readonly List<IGradientStepObserver> _outputs = [];
    private readonly ILogger _logger;

    /// <exception cref="ArgumentException">An output path cannot be written; ParamName is the option's path.</exception>
    public TelemetryOutputs(IReadOnlyList<LayerDescriptor> layers, GradientMonitorOptions options, ILogger logger)
    {
        _logger = logger;
        TelemetryOptions telemetry = options.Telemetry;
        History = new GradientRunHistory(layers, options.Report, ClippingTelemetry.Threshold(options), telemetry.ExportInterval);
        _outputs.Add(History);
        if (telemetry.Metrics)
        {
            _outputs.Add(new GradientMetrics(layers, telemetry));
        }

        if (telemetry.SummaryInterval > 0)
        {
            _outputs.Add(new StepSummaryLogger(logger, telemetry.SummaryInterval));
        }

        if (telemetry.JsonLinesPath is string path)
        {
            _outputs.Add(new JsonLinesRunWriter(path, layers, telemetry.ExportInterval, ClippingTelemetry.Threshold(options),
                $"{nameof(GradientMonitorOptions.Telemetry)}.{nameof(TelemetryOptions.JsonLinesPath)}"));
        }
    }

    /// <summary>The bounded history the HTML report is made from.</summary>
    public GradientRunHistory History { get; }

    /// <summary>Adds an output the adapter built (for example the TensorBoard writer).</summary>
    public void Add(IGradientStepObserver output) => _outputs.Add(output);

    public void OnStep(GradientStepResult result, double overheadSeconds)
    {
        for (int i = 0; i < _outputs.Count; i++)
        {
            // Telemetry must never break the training loop: a failing output is reported once and switched off.
            if (FaultIsolation.Run((Output: _outputs[i], Result: result, Overhead: overheadSeconds), static s => s.Output.OnStep(s.Result,
                s.Overhead)) is Exception ex)
            {
                IGradientStepObserver failed = _outputs[i];
                _outputs.RemoveAt(i--);
                ReportFailure(failed, ex);
                DisposeQuietly(failed);
            }
        }
    }

    /// <summary>Tells the outputs that keep a file across runs that the run resumes at <paramref name="nextStep"/>.</summary>
    public void Resume(long nextStep)
    {
        foreach (JsonLinesRunWriter writer in _outputs.OfType<JsonLinesRunWriter>())
        {
            // The state is loaded already: a file that cannot be read back is reported, and the writer starts it anew.
            if (FaultIsolation.Run((Writer: writer, Step: nextStep), static s => s.Writer.Resume(s.Step)) is Exception ex)
            {
                GradientSelfLog.Write("the JSON Lines file could not be resumed; it is written anew from the next step.", ex);
            }
        }
    }

    public void Dispose()
    {
        foreach (IGradientStepObserver output in _outputs)
        {
            DisposeQuietly(output);
        }

        _outputs.Clear();
    }

    private void ReportFailure(IGradientStepObserver output, Exception exception)
    {
        GradientSelfLog.Write($"the telemetry output {output.GetType().Name} failed and was switched off; training goes on.", exception);
        // The logger itself may be the thing that fails; the self-log above already has it.
        _ = FaultIsolation.Run((Logger: _logger, Name: output.GetType().Name, Exception: exception), static s => Log.TelemetryOutputFailed(s.Logger, s.Name,
            s.Exception));
    }

    private void DisposeQuietly(IGradientStepObserver output)
    {
        // Closing a broken output (a full disk) must not break the training loop either.
        if (FaultIsolation.Run(output, static o => o.Dispose()) is Exception ex)
        {
            ReportFailure(output, ex);
        }
    }
}
