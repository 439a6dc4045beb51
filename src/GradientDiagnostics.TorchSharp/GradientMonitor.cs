// Over 150 lines: the monitor is the adapter's one public facade (attach, step, recovery, mixed precision, reports);
// each feature's work lives in its own folder and this file only wires it into the step.
using System.Diagnostics;
using GradientDiagnostics.TorchSharp.Probes;
using GradientDiagnostics.TorchSharp.Recovery;
using GradientDiagnostics.TorchSharp.Tracing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Watches a TorchSharp model's gradients. Create it with
/// <see cref="GradientMonitorExtensions.AttachGradientMonitor"/>; after each <c>loss.backward()</c>, call
/// <see cref="Step"/> and skip the optimizer step when <see cref="GradientStepResult.SkipStep"/> is set.
/// Dispose it to detach.
/// </summary>
/// <remarks>
/// Not thread-safe: call <see cref="Step"/> from the training loop's thread. Several monitors may watch the same model
/// independently; each has its own hooks and probes, and disposing one leaves the others working.
/// </remarks>
public sealed class GradientMonitor : IDisposable
{
    private readonly GradientAnalyzer _analyzer;
    private readonly GradientStatisticsReader _gradients;
    private readonly ParameterObserver _parameters;
    private readonly LayerOutputProbes? _probes;
    private readonly HostTransfer _transfer = new();
    private readonly LayerObservation[] _observations;
    private readonly DeviceClippingTarget? _clipping;
    private readonly ILogger _logger;
    private readonly torch.nn.Module _module;

    // One array, shared by the reader, the parameter observer, the clipping target and TensorBoard: following a moved
    // model replaces its elements in place, so every reader sees the new parameters.
    private readonly ModuleLayer[] _layers;
    private ParameterPlacement _placement;
    private readonly ForwardOriginTracer? _tracer;
    private TrainingStateRecovery? _recovery;
    private MixedPrecisionTraining? _mixed;
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

        _module = module;
        _layers = layers;
        _placement = new ParameterPlacement(layers);
        _logger = logger ?? NullLogger.Instance;
        _analyzer = new GradientAnalyzer([.. layers.Select(l => l.Descriptor)], options, logger);
        _gradients = new GradientStatisticsReader(layers);
        // The update-ratio detector needs ‖θ_t − θ_{t−1}‖: enabling it turns the (memory-costly) measurement on.
        _parameters = new ParameterObserver(layers, options.CaptureParameterUpdates || options.UpdateRatio.Enabled);
        _observations = new LayerObservation[layers.Length];
        _clipping = options.Clipping is null ? null : new DeviceClippingTarget(layers, _gradients);
        AddTensorBoard(options.Telemetry, layers);
        ReportIdleDetectors(options, _logger);
        if (options.CaptureLayerOutputs)
        {
            _probes = new LayerOutputProbes(layers, options.LayerOutputFilter, _logger) { Capturing = _analyzer.NextStepKind == GradientStepKind.Full };
        }

        _tracer = options.NonFinite.TraceOrigin ? new ForwardOriginTracer(module) : null;
    }

    /// <summary>Raised on the training loop's thread, inside <see cref="Step"/>, once per alert; the sender is the
    /// monitor's <see cref="GradientAnalyzer"/>. A subscriber that throws is logged once and never breaks training.</summary>
    public event EventHandler<GradientAlert>? AlertRaised
    {
        add => _analyzer.AlertRaised += value;
        remove => _analyzer.AlertRaised -= value;
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

        if (_placement.FindChange() is string change)
        {
            FollowMovedModel(change);
        }

        long step = _analyzer.StepCount;
        bool full = _analyzer.NextStepKind == GradientStepKind.Full;
        double? lossValue = Measure(loss, step, full, out string? origin);
        _mixed?.Target.Begin(_analyzer.LossScaler!.Scale);
        // Statistics, detectors, then the clipping policy applied in place on the gradients' device (on the masters'
        // gradients under mixed precision, written there once).
        GradientStepResult result = _analyzer.AnalyzeTraced(_observations, lossValue, _mixed?.Target ?? (IGradientClippingTarget?)_clipping, start, origin);
        _mixed?.Complete(result);

        _recovery?.Apply(_analyzer.LastRecovery, step, _analyzer.Recovery!);
        PrepareNextStep(step);
        return result;
    }

    /// <summary>
    /// Turns on recovery for the steps to come. <see cref="Step"/> then refuses a step whose global gradient norm or
    /// loss spikes (<see cref="GradientStepResult.SkipStep"/>, before the optimizer applies it), keeps in-memory
    /// snapshots of the model's parameters and buffers and of <paramref name="optimizer"/>'s state (momentum buffers,
    /// Adam's moments and step counts) taken on healthy steps, restores the last good one bit-exactly when steps keep
    /// failing (<see cref="GradientStepResult.RolledBackToStep"/>), and gives up with a Critical alert at the configured
    /// limits. Each action raises a <see cref="GradientAlertKind.Recovery"/> alert. Pass the step's loss to
    /// <see cref="Step"/> for the loss spike criterion.
    /// </summary>
    /// <param name="optimizer">The optimizer that updates the model: a TorchSharp optimizer derived from
    /// <c>OptimizerHelper</c> (SGD, Adam, AdamW, RMSprop, …).</param>
    /// <param name="configure">Sets the options; they are validated and copied before this method returns.</param>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="optimizer"/> keeps its state in native code, which cannot be
    /// snapshotted.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it
    /// (for example <c>Recovery.SnapshotInterval</c>).</exception>
    /// <exception cref="InvalidOperationException">Recovery is already enabled on this monitor.</exception>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    public void EnableRecovery(torch.optim.Optimizer optimizer, Action<GradientRecoveryOptions>? configure = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (optimizer is not global::TorchSharp.Modules.OptimizerHelper managed)
        {
            throw new ArgumentException($"Recovery needs an optimizer whose state TorchSharp exposes (derived from OptimizerHelper, as SGD and Adam are); {optimizer.GetType().Name} is not.", nameof(optimizer));
        }

        var options = new GradientRecoveryOptions();
        configure?.Invoke(options);
        _analyzer.EnableRecovery(options);
        _recovery = new TrainingStateRecovery(_module, managed, options.KeepSnapshotsOnDevice, options.MaxSnapshots) { MixedPrecision = _mixed };
    }

    /// <summary>
    /// Turns on mixed-precision training for a 16-bit model (<c>model.half()</c> or <c>model.to(ScalarType.BFloat16)</c>):
    /// an fp32 master copy of every trainable parameter for the optimizer, loss scaling, and, in each <see cref="Step"/>,
    /// one read of the 16-bit gradients that checks them for overflow (a step with a NaN or ±Infinity gradient is skipped,
    /// nothing is written, and a dynamic scale backs off), measures every statistic and decides clipping in unscaled units,
    /// and writes <c>master.grad = g₁₆ × (clip coefficient / S)</c> in fp32. Build the optimizer on
    /// <see cref="MixedPrecisionTraining.MasterParameters"/>, then call <see cref="EnableRecovery"/> (if wanted) with it:
    /// recovery's snapshots then hold the masters, and a rollback restores the loss scaler too.
    /// </summary>
    /// <param name="configure">Sets the options; copied before this method returns. The default loss scaling is
    /// <see cref="LossScaling.Dynamic"/> when a trainable parameter is float16, <see cref="LossScaling.None"/> otherwise.</param>
    /// <returns>The masters, the loss scale and the step that writes the masters back into the model.</returns>
    /// <exception cref="InvalidOperationException">Mixed precision is already enabled, or recovery was enabled first (its
    /// optimizer cannot be the masters').</exception>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    public MixedPrecisionTraining EnableMixedPrecision(Action<MixedPrecisionOptions>? configure = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _mixed = MixedPrecisionTraining.Enable(_analyzer, _module, _layers, configure, enabled: _mixed is not null, recoveryEnabled: _recovery is not null);
        return _mixed;
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
        _recovery?.Dispose();
        _mixed?.Target.DisposeBuffers();
        _parameters.Dispose();
        _analyzer.Dispose();
    }

    internal GradientStatisticsReader Reader => _gradients;

    /// <summary>Discovers the layers of a moved model again and hands the new parameters to every reader, keeping the
    /// analyzer (names, history, options); throws when the layers themselves changed.</summary>
    private void FollowMovedModel(string change)
    {
        ModuleLayer[] fresh;
        try
        {
            fresh = LayerDiscovery.Discover(_module);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                $"The model's parameters changed after the gradient monitor was attached ({change}), and its layers could not be read again ({ex.Message}). Dispose this monitor and attach a new one after model.to(...) or any other change of the model.", ex);
        }

        string[] before = [.. _layers.Select(l => l.Name)];
        string[] after = [.. fresh.Select(l => l.Name)];
        if (!before.SequenceEqual(after) || !_layers.Zip(fresh).All(p => p.First.Parameters.Length == p.Second.Parameters.Length))
        {
            string[] gone = [.. before.Except(after)];
            string[] added = [.. after.Except(before)];
            throw new InvalidOperationException(
                $"The model's parameters changed after the gradient monitor was attached ({change}), and its layers are no longer the ones monitored (removed: [{string.Join(", ", gone)}]; added: [{string.Join(", ", added)}]; or parameters frozen or unfrozen). The monitor follows model.to(device), model.to(dtype) and model.half() only. Dispose this monitor and attach a new one after changing the model.");
        }

        Array.Copy(fresh, _layers, fresh.Length);
        _placement = new ParameterPlacement(_layers);
        // The parameter copies for ‖θ_t − θ_{t−1}‖ have the old dtype and device: drop them (the next full step after the
        // next copy measures again). The probes hook modules, which a move keeps, and hold this step's outputs: kept.
        _parameters.Dispose();
    }

    /// <summary>Says once, at attach, which enabled detectors cannot run without layer outputs, so no default is a silent no-op.</summary>
    private static void ReportIdleDetectors(GradientMonitorOptions options, ILogger logger)
    {
        if (options.CaptureLayerOutputs)
        {
            return;
        }

        string[] idle = [.. new (bool Enabled, string Name)[] { (options.Saturation.Enabled, nameof(options.Saturation)), (options.DeadUnits.Enabled, nameof(options.DeadUnits)) }
            .Where(d => d.Enabled).Select(d => d.Name)];
        if (idle.Length > 0 && logger.IsEnabled(LogLevel.Information))
        {
            // A failing logger must never break attach. Not self-logged here: the analyzer reports a failing logger once,
            // at its first alert.
            _ = FaultIsolation.Run((Logger: logger, Detectors: string.Join(", ", idle)),
                static s => Log.DetectorsIdle(s.Logger, s.Detectors, nameof(GradientMonitorOptions.CaptureLayerOutputs)));
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
            _analyzer.AddStepObserver(new TensorBoardWriter(directory, layers, telemetry.ExportInterval,
                $"{nameof(GradientMonitorOptions.Telemetry)}.{nameof(GradientTelemetryOptions.TensorBoardLogDirectory)}"));
        }
        catch
        {
            // Attach fails as a whole: close the outputs already opened (the JSON Lines file) and remove the hooks.
            Dispose();
            throw;
        }
    }

    internal IReadOnlyList<LayerDescriptor> Descriptors => _analyzer.Layers;

    /// <summary>What the last step handed the analyzer, for tests of the observations the detectors consume.</summary>
    internal IReadOnlyList<LayerObservation> LastObservations => _observations;

    internal ParameterObserver Parameters => _parameters;

    internal LayerOutputProbes? Probes => _probes;

    internal ForwardOriginTracer? Tracer => _tracer;

    internal TrainingStateRecovery? RecoveryState => _recovery;

    /// <summary>Fills <see cref="_observations"/> for the step with one host transfer, and returns the loss value and the
    /// forward pass's non-finite origin (when traced).</summary>
    private double? Measure(torch.Tensor? loss, long step, bool full, out string? origin)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        int lossOffset = loss is null ? -1 : _transfer.Add(loss.detach());
        _gradients.Queue(_transfer);
        if (full)
        {
            _parameters.Queue(step, _transfer);
            _probes?.Queue(_transfer);
        }

        _tracer?.Queue(_transfer);
        ReadOnlySpan<double> host = _transfer.Fetch();
        origin = _tracer?.Complete(host);
        _gradients.Complete(host);
        for (int i = 0; i < _observations.Length; i++)
        {
            _observations[i] = new LayerObservation(_gradients.Statistics[i]) { ParameterFormat = _gradients.Formats[i], SixteenBitGradient = _gradients.SixteenBit[i] };
        }

        double? lossValue = lossOffset < 0 ? null : host[lossOffset];
        if (full)
        {
            _parameters.Complete(host);
            _probes?.Complete(host, _observations, step);
        }
        else if (!_gradients.AllFinite || lossValue is double l && !double.IsFinite(l))
        {
            // Only on a step that is already non-finite (free on healthy ones): are the weights themselves non-finite?
            // A second host transfer, after which the first one's values are no longer read.
            _parameters.Queue(step, _transfer);
            _parameters.Complete(_transfer.Fetch());
            full = true;
        }

        for (int i = 0; full && i < _observations.Length; i++)
        {
            _observations[i] = _observations[i] with
            {
                Parameters = _parameters.Statistics[i],
                ParameterUpdateNorm = _parameters.UpdateNorms[i],
                LostUpdateFraction = _parameters.LostUpdateFractions[i],
                ParameterFormat = _gradients.Formats[i] == NumericFormat.Unknown ? _parameters.Formats[i] : _gradients.Formats[i],
            };
        }

        return lossValue;
    }

    /// <summary>Arms the probes and the parameter copy for the coming step, and forgets anything left from this one.</summary>
    private void PrepareNextStep(long step)
    {
        bool nextIsFull = _analyzer.NextStepKind == GradientStepKind.Full;
        _parameters.SnapshotIfNextIsFull(step, nextIsFull);
        if (_probes is null)
        {
            return;
        }

        _probes.Reset();
        _probes.Capturing = nextIsFull;
    }
}
