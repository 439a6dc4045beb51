using System.Diagnostics;
using GradientDiagnostics.TorchSharp.Probes;
using GradientDiagnostics.TorchSharp.Recovery;
using GradientDiagnostics.TorchSharp.ThroughTime;
using GradientDiagnostics.TorchSharp.Tracing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Watches a TorchSharp model's gradients. Create it with
/// <see cref="GradientMonitorExtensions.AttachGradientMonitor(torch.nn.Module, Action{GradientMonitorOptions}, ILogger)"/>;
/// after each <c>loss.backward()</c>, call
/// <see cref="Step"/> and skip the optimizer step when <see cref="GradientStepResult.SkipStep"/> is set.
/// Dispose it to detach.
/// </summary>
/// <remarks>
/// Not thread-safe: call <see cref="Step"/> from the training loop's thread. Several monitors may watch the same model
/// independently; each has its own hooks and probes, and disposing one leaves the others working.
/// </remarks>
public sealed partial class GradientMonitor : IDisposable
{
    private readonly GradientAnalyzer _analyzer;
    private readonly GradientStatisticsReader _gradients;
    private readonly ParameterObserver _parameters;
    private readonly LayerOutputProbes? _probes;
    private readonly DeviceClippingTarget? _clipping;
    private readonly ILogger _logger;
    private readonly torch.nn.Module _module;
    private readonly List<(EventHandler<GradientAlert> Handler, EventHandler<GradientAlert> Forward)> _forwarders = [];

    // One array, shared by the reader, the parameter observer, the clipping target, TensorBoard and the follower: following
    // a moved model replaces its elements in place, so every reader sees the new parameters.
    private readonly ModuleLayer[] _layers;
    private readonly MovedModelFollower _follower;
    private readonly StepMeasurement _measurement;
    private readonly ForwardOriginTracer? _tracer;
    private readonly TimeProfileMeasurement? _timeProfiles;
    private TrainingStateRecovery? _recovery;
    private MixedPrecisionTraining? _mixed;
    private bool _disposed;

    internal GradientMonitor(torch.nn.Module module, GradientMonitorOptions options, ILogger? logger)
    {
        ModuleLayer[] layers = LayerDiscovery.Discover(module);
        if (layers.Length == 0)
        {
            throw new ArgumentException(
                $"The module '{module.GetName()}' has no trainable parameters (it has none, or every one has requires_grad = false), so there are no " +
                    "gradients to monitor.",
                nameof(module));
        }

        _module = module;
        _layers = layers;
        _logger = logger ?? NullLogger.Instance;
        _analyzer = new GradientAnalyzer([.. layers.Select(l => l.Descriptor)], options, logger);
        _gradients = new GradientStatisticsReader(layers);
        _gradients.ReserveScratch();
        // The update-ratio detector needs ‖θ_t − θ_{t−1}‖: enabling it turns the (memory-costly) measurement on.
        _parameters = new ParameterObserver(layers, options.CaptureParameterUpdates || options.UpdateRatio.Enabled, _gradients.Scratch);
        _follower = new MovedModelFollower(module, layers, _parameters);
        _clipping = options.Clipping is null ? null : new DeviceClippingTarget(layers, _gradients);
        AddTensorBoard(options.Telemetry, layers);
        IdleDetectors.Report(options, _logger);
        if (options.CaptureLayerOutputs != false)
        {
            _probes = new LayerOutputProbes(layers, options.LayerOutputFilter, _logger, asked: options.CaptureLayerOutputs == true)
            {
                Capturing = _analyzer.NextStepKind == GradientStepKind.Full,
            };
        }

        _tracer = options.NonFinite.TraceOrigin ? new ForwardOriginTracer(module) : null;
        ThroughTimeOptions throughTime = options.ThroughTime;
        _timeProfiles = throughTime.Enabled ? TimeProfileMeasurement.For(module, throughTime.HorizonFraction, throughTime.MaxSequences) : null;
        _timeProfiles?.PrepareNextStep(_analyzer.NextStepMeasuresTime);
        _measurement = new StepMeasurement(layers.Length, _gradients, _parameters, _probes, _tracer, _timeProfiles);
    }

    /// <summary>The monitored layers' module paths, in forward order (index 0 closest to the input): managed modules in
    /// registration order, the layers inside TorchSharp's native Transformer modules in the order libtorch applies them. A
    /// layer is the group of trainable parameters of one innermost module path, also inside native modules:
    /// <c>encoder.layers.3.self_attn</c>, <c>encoder.layers.3.self_attn.out_proj</c>, <c>encoder.layers.3.norm1</c>,
    /// <c>encoder.layers.3.linear1</c> of an <c>nn.TransformerEncoder</c>.</summary>
    public IReadOnlyList<string> LayerNames => _analyzer.LayerNames;

    /// <summary>The layers whose outputs have a probe (a forward hook) with <see cref="GradientMonitorOptions.CaptureLayerOutputs"/>,
    /// in forward order; empty when the option is off. A probe sees its layer only when the module is called through
    /// <c>call(x)</c>: <see cref="CapturedLayers"/> says which hooks actually ran.</summary>
    public IReadOnlyList<string> ProbedLayers => _probes?.ProbedLayers ?? [];

    /// <summary>The probed layers whose forward hooks ran on the last full-statistics step (empty before the first one, or
    /// when the option is off). Empty after a full step while <see cref="ProbedLayers"/> is not means that no hook ran:
    /// most likely the model calls its children with <c>child.forward(x)</c> rather than <c>child.call(x)</c>.</summary>
    public IReadOnlyList<string> CapturedLayers => _probes?.CapturedLayers ?? [];

    /// <summary>With <see cref="GradientMonitorOptions.CaptureLayerOutputs"/>, the layers that have no probe, each with the
    /// reason: inside a native module (libtorch computes it in one native call), a module without a usable forward hook,
    /// or excluded by <see cref="GradientMonitorOptions.LayerOutputFilter"/>. Empty when the option is off.</summary>
    public IReadOnlyDictionary<string, string> UnprobedLayers => _probes?.Unprobed ?? System.Collections.ObjectModel.ReadOnlyDictionary<string, string>.Empty;

    /// <summary>Measures every trainable parameter's gradient, runs the detectors, applies
    /// <see cref="GradientMonitorOptions.Clipping"/> in place when set, and says whether to apply the step.
    /// Call it after <c>loss.backward()</c> (after the last backward when accumulating gradients) and before
    /// <c>optimizer.step()</c>. Every <see cref="GradientMonitorOptions.FullStatisticsInterval"/> steps it also reads the
    /// layer-output probes, the activations and the parameters (<see cref="GradientStepResult.Kind"/>).</summary>
    /// <param name="loss">The step's loss (a one-element tensor), to check it for NaN / ±Infinity; optional.</param>
    /// <returns>The step's statistics, alerts and skip decision.</returns>
    /// <remarks>When the model was moved after attach (<c>model.to(device)</c>, <c>model.to(ScalarType)</c>,
    /// <c>model.half()</c>: its parameters changed identity, dtype or device), <see cref="Step"/> follows it: it finds the
    /// layers again and keeps their names, history and options.</remarks>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    /// <exception cref="ArgumentException"><paramref name="loss"/> has more than one element.</exception>
    /// <exception cref="InvalidOperationException">The model's parameters changed after attach and its layers are no longer
    /// the same (a module added or removed, parameters frozen or unfrozen, the model disposed): the message says what
    /// changed; attach a new monitor after changing the model.</exception>
    public GradientStepResult Step(torch.Tensor? loss = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long start = Stopwatch.GetTimestamp();
        if (loss is not null && loss.numel() != 1)
        {
            throw new ArgumentException($"The loss must have exactly one element; it has shape [{string.Join(", ", loss.shape)}].", nameof(loss));
        }

        _follower.FollowIfMoved();

        long step = _analyzer.StepCount;
        bool full = _analyzer.NextStepKind == GradientStepKind.Full;
        double? lossValue = _measurement.Measure(loss, step, full, out string? origin, _analyzer.NextStepMeasuresTime);
        _mixed?.Target.Begin(_analyzer.LossScaler!.Scale);
        // Statistics, detectors, then the clipping policy applied in place on the gradients' device (on the masters'
        // gradients under mixed precision, written there once).
        GradientStepResult result = _analyzer.Analyze(
            _measurement.Observations, lossValue, _mixed?.Target ?? (IGradientClippingTarget?)_clipping, start, origin, _measurement.TimeProfiles);
        _mixed?.Complete(result);
        _gradients.ReleaseGradients();

        _measurement.PrepareNextStep(step, _analyzer.NextStepKind == GradientStepKind.Full, _analyzer.NextStepMeasuresTime);
        return result;
    }

    /// <summary>Raised on the training loop's thread, inside <see cref="Step"/>, once per alert; the sender is this
    /// monitor. A subscriber that throws is logged once and never breaks training.</summary>
    public event EventHandler<GradientAlert>? AlertRaised
    {
        add
        {
            if (value is not null)
            {
                // One forwarding handler per subscriber keeps each subscriber's fault isolation in the analyzer.
                EventHandler<GradientAlert> forward = (_, alert) => value(this, alert);
                _forwarders.Add((value, forward));
                _analyzer.AlertRaised += forward;
            }
        }

        remove
        {
            int i = _forwarders.FindLastIndex(f => f.Handler == value);
            if (i >= 0)
            {
                _analyzer.AlertRaised -= _forwarders[i].Forward;
                _forwarders.RemoveAt(i);
            }
        }
    }

    /// <summary>Builds a self-contained HTML report of the run so far (gradient flow, depth profile, global norm over
    /// steps, alerts), from the bounded history the monitor keeps; save it with <see cref="GradientReport.Save"/>.</summary>
    /// <param name="title">The report's title; "training run" when null.</param>
    /// <returns>A snapshot: later steps do not change it.</returns>
    public GradientReport CreateReport(string? title = null) => _analyzer.CreateReport(title);

    /// <summary>Detaches the monitor: removes every forward hook, drops whatever the probes and parameter copies hold,
    /// and flushes and closes its telemetry outputs. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _probes?.Dispose();
        _tracer?.Dispose();
        _timeProfiles?.Dispose();
        _recovery?.Dispose();
        _mixed?.Target.Dispose();
        _gradients.Dispose();
        _parameters.Dispose();
        _analyzer.Dispose();
    }

    private void AddTensorBoard(TelemetryOptions telemetry, ModuleLayer[] layers)
    {
        if (telemetry.TensorBoardLogDirectory is not string directory)
        {
            return;
        }

        try
        {
            _analyzer.AddStepObserver(new TensorBoardWriter(directory, layers, telemetry.ExportInterval,
                $"{nameof(GradientMonitorOptions.Telemetry)}.{nameof(TelemetryOptions.TensorBoardLogDirectory)}"));
        }
        catch
        {
            // Attach fails as a whole: close the outputs already opened (the JSON Lines file) and remove the hooks.
            Dispose();
            throw;
        }
    }

    internal GradientStatisticsReader Reader => _gradients;

    internal IReadOnlyList<LayerDescriptor> Descriptors => _analyzer.Layers;

    /// <summary>What the last step handed the analyzer, for tests of the observations the detectors consume.</summary>
    internal IReadOnlyList<LayerObservation> LastObservations => _measurement.Observations;

    internal ParameterObserver Parameters => _parameters;

    internal LayerOutputProbes? Probes => _probes;

    internal ForwardOriginTracer? Tracer => _tracer;

    internal TrainingStateRecovery? RecoveryState => _recovery;
}
