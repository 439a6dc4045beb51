using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Watches a TorchSharp model's gradients. Create it with
/// <see cref="GradientMonitorExtensions.AttachGradientMonitor"/>; after each <c>loss.backward()</c>, call
/// <see cref="Step"/> and skip the optimizer step when <see cref="GradientStepResult.SkipStep"/> is set.
/// Dispose it to detach.
/// </summary>
/// <remarks>Not thread-safe: call <see cref="Step"/> from the training loop's thread.</remarks>
public sealed class GradientMonitor : IDisposable
{
    private readonly GradientAnalyzer _analyzer;
    private readonly GradientStatisticsReader _reader;
    private readonly LayerObservation[] _observations;
    private readonly DeviceClippingTarget? _clipping;
    private bool _disposed;

    internal GradientMonitor(torch.nn.Module module, GradientMonitorOptions options, ILogger? logger)
    {
        ModuleLayer[] layers = LayerDiscovery.Discover(module);
        if (layers.Length == 0)
        {
            throw new ArgumentException(
                $"The module '{module.GetName()}' has no trainable parameters (it has none, or every one has requires_grad = false), so there are no gradients to monitor.",
                nameof(module));
        }

        _analyzer = new GradientAnalyzer([.. layers.Select(l => l.Name)], options, logger, eventSender: this);
        AddTensorBoard(options.Telemetry, layers);
        _reader = new GradientStatisticsReader(layers);
        _observations = new LayerObservation[layers.Length];
        _clipping = options.Clipping is null ? null : new DeviceClippingTarget(layers, _reader);
    }

    /// <summary>Raised on the training loop's thread, inside <see cref="Step"/>, once per alert. A subscriber that
    /// throws is logged once and never breaks training.</summary>
    public event EventHandler<GradientAlert>? AlertRaised
    {
        add => _analyzer.AlertRaised += value;
        remove => _analyzer.AlertRaised -= value;
    }

    /// <summary>The monitored layers' module paths, in forward (registration) order.</summary>
    public IReadOnlyList<string> LayerNames => _analyzer.LayerNames;

    /// <summary>Measures every trainable parameter's gradient, runs the detectors, applies
    /// <see cref="GradientMonitorOptions.Clipping"/> in place when set, and says whether to apply the step.
    /// Call it after <c>loss.backward()</c> and before <c>optimizer.step()</c>.</summary>
    /// <param name="loss">The step's loss (a one-element tensor), to check it for NaN / ±Infinity; optional.</param>
    /// <returns>The step's statistics, alerts and skip decision.</returns>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    /// <exception cref="ArgumentException"><paramref name="loss"/> has more than one element.</exception>
    public GradientStepResult Step(torch.Tensor? loss = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long start = Stopwatch.GetTimestamp();
        double? lossValue = loss is null ? null : ReadScalar(loss);
        _reader.Read(_observations);
        // Statistics, detectors, then the clipping policy applied in place on the gradients' device.
        return _analyzer.AnalyzeAndClip(_observations, lossValue, _clipping, start);
    }

    /// <summary>Builds a self-contained HTML report of the run so far (gradient flow, depth profile, global norm over
    /// steps, alerts), from the bounded history the monitor keeps; save it with <see cref="GradientReport.Save"/>.</summary>
    /// <param name="title">The report's title; "training run" when null.</param>
    /// <returns>A snapshot: later steps do not change it.</returns>
    public GradientReport CreateReport(string? title = null) => _analyzer.CreateReport(title);

    /// <summary>Detaches the monitor and flushes and closes its telemetry outputs. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _analyzer.Dispose();
        }
    }

    private void AddTensorBoard(GradientTelemetryOptions telemetry, ModuleLayer[] layers)
    {
        if (telemetry.TensorBoardLogDirectory is not string directory)
        {
            return;
        }

        try
        {
            _analyzer.AddTelemetryOutput(new TensorBoardWriter(directory, layers, telemetry.ExportInterval,
                $"{nameof(GradientMonitorOptions.Telemetry)}.{nameof(GradientTelemetryOptions.TensorBoardLogDirectory)}"));
        }
        catch
        {
            // Attach fails as a whole: close the outputs already opened (the JSON Lines file).
            _analyzer.Dispose();
            throw;
        }
    }

    internal GradientStatisticsReader Reader => _reader;

    private static double ReadScalar(torch.Tensor loss)
    {
        if (loss.numel() != 1)
        {
            throw new ArgumentException($"The loss must have exactly one element; it has shape [{string.Join(", ", loss.shape)}].", nameof(loss));
        }

        using torch.Tensor value = loss.detach().to_type(torch.ScalarType.Float64);
        return value.item<double>();
    }
}
