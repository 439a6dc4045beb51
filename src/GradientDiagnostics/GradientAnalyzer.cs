using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GradientDiagnostics;

/// <summary>
/// The framework-free heart of the monitor: turns one step's per-layer observations into a
/// <see cref="GradientStepResult"/> (statistics → detectors → alerts), logs the alerts and raises
/// <see cref="AlertRaised"/>. Adapters such as GradientDiagnostics.TorchSharp measure the layers and call
/// <see cref="Analyze"/> once per step; it can be driven directly from plain arrays as well.
/// </summary>
/// <remarks>Not thread-safe: one training loop drives one analyzer.</remarks>
public sealed class GradientAnalyzer : IDisposable
{
    private readonly LayerDescriptor[] _layers;
    private readonly string[] _layerNames;
    private readonly int _fullStatisticsInterval;
    private readonly bool _skipNonFiniteSteps;
    private readonly double _spikeZScoreThreshold;
    private readonly ILogger _logger;
    private readonly IGradientDetector[] _detectors;
    private readonly IGradientDetector[] _afterClipping;
    private readonly ClippingStage? _clipping;
    private readonly GradientHistory _history;
    private readonly AlertPublisher _publisher;
    private readonly TelemetryOutputs _telemetry;
    private readonly ExplodingGradientOptions _spikeAtAttach;
    private RecoveryPolicy? _recovery;

    /// <summary>Creates an analyzer for a network whose layers, in forward order, have the given names.</summary>
    /// <param name="layerNames">The layers' names in forward order (index 0 is closest to the input).</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="logger">Where alerts are logged; <see cref="NullLogger.Instance"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public GradientAnalyzer(IReadOnlyList<string> layerNames, GradientMonitorOptions options, ILogger? logger = null)
        : this([.. (layerNames ?? throw new ArgumentNullException(nameof(layerNames))).Select(n => new LayerDescriptor(n))], options, logger)
    {
    }

    /// <summary>Creates an analyzer for a network whose layers, in forward order, are described.</summary>
    /// <param name="layers">The layers in forward order (index 0 is closest to the input).</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="logger">Where alerts are logged; <see cref="NullLogger.Instance"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    /// <exception cref="ArgumentException">A telemetry output path cannot be written; ParamName is the option's path.</exception>
    public GradientAnalyzer(IReadOnlyList<LayerDescriptor> layers, GradientMonitorOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _layers = [.. layers];
        _layerNames = [.. _layers.Select(l => l.Name)];
        // Options are copied here, after validation: each detector and the clipping stage get their own copy, and the
        // analyzer keeps the values it reads per step, so changing the options object after attach has no effect.
        _fullStatisticsInterval = options.FullStatisticsInterval;
        _skipNonFiniteSteps = options.SkipNonFiniteSteps;
        _spikeZScoreThreshold = options.Exploding.SpikeZScoreThreshold;
        _spikeAtAttach = (ExplodingGradientOptions)options.Exploding.CopyOptions();
        _logger = logger ?? NullLogger.Instance;
        _publisher = new AlertPublisher(_logger, this);

        var context = new DetectorContext(_layers, ClippingConfigured: options.Clipping is not null);
        IGradientDetector[] detectors = [.. options.Detectors.Select(d => d.Options.Build(context)).OfType<IGradientDetector>()];
        _detectors = [.. detectors.Where(d => !d.ReadsClipping)];
        _afterClipping = [.. detectors.Where(d => d.ReadsClipping)];
        _clipping = options.Clipping is null ? null : new ClippingStage(options.Clipping, _layerNames);
        _telemetry = new TelemetryOutputs(_layers, options, _logger);
        _history = new GradientHistory(_layers.Length, options.Exploding.SpikeEmaDecay, options.Exploding.SpikeWarmupSteps, options.Exploding.EarlySteps);
    }

    /// <summary>Raised on the caller's thread, inside <see cref="Analyze"/>, once per alert; the sender is this analyzer.
    /// A subscriber that throws is logged once (EventId <see cref="GradientLogEvents.AlertHandlerFailed"/>) and never
    /// breaks training.</summary>
    public event EventHandler<GradientAlert>? AlertRaised;

    /// <summary>The layers' names in forward order.</summary>
    public IReadOnlyList<string> LayerNames => _layerNames;

    /// <summary>The layers in forward order.</summary>
    public IReadOnlyList<LayerDescriptor> Layers => _layers;

    /// <summary>The bounded history the detectors compare each step with.</summary>
    internal GradientHistory History => _history;

    /// <summary>The number of steps analyzed so far; the next step's number.</summary>
    public long StepCount { get; private set; }

    /// <summary>The kind of the next step to analyze: <see cref="GradientStepKind.Full"/> every
    /// <see cref="GradientMonitorOptions.FullStatisticsInterval"/> steps, starting at step 0. Adapters read it before a
    /// step's forward pass to decide whether to measure layer outputs, activations and parameters.</summary>
    public GradientStepKind NextStepKind => KindOf(StepCount);

    /// <summary>Builds an HTML report of the run so far from the bounded history the analyzer keeps
    /// (see <see cref="GradientMonitorOptions.Report"/>).</summary>
    /// <param name="title">The report's title; "training run" when null.</param>
    /// <returns>A snapshot: later steps do not change it.</returns>
    public GradientReport CreateReport(string? title = null) => new(_telemetry.History.Snapshot(), title ?? "training run");

    /// <summary>Flushes and closes the telemetry outputs (the JSON Lines file). Safe to call more than once.</summary>
    public void Dispose() => _telemetry.Dispose();

    /// <summary>The recovery decision of the last analyzed step, for the adapter to apply to its tensors and optimizer
    /// before the optimizer steps; default (<see cref="RecoveryAction.None"/>) without recovery.</summary>
    public RecoveryDecision LastRecovery { get; private set; }

    /// <summary>The recovery policy, once <see cref="EnableRecovery"/> was called: the adapter registers the snapshots it
    /// takes with it and drops those not in <see cref="RecoveryPolicy.SnapshotSteps"/>; null before.</summary>
    public RecoveryPolicy? Recovery => _recovery;

    /// <summary>Turns recovery on from the next step: validates and copies <paramref name="options"/>. An adapter that
    /// can snapshot and restore its framework's parameters and optimizer state calls it, then applies
    /// <see cref="LastRecovery"/> after every step (docs/reliability.md).</summary>
    /// <param name="options">The recovery options; later changes to them have no effect.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it (for example
    /// <c>Recovery.SnapshotInterval</c>).</exception>
    /// <exception cref="InvalidOperationException">Recovery is already enabled.</exception>
    public void EnableRecovery(GradientRecoveryOptions options)
    {
        if (_recovery is not null)
        {
            throw new InvalidOperationException("Recovery is already enabled on this monitor.");
        }

        ArgumentNullException.ThrowIfNull(options);
        options.Validate("Recovery");
        _recovery = new RecoveryPolicy(options, _spikeAtAttach);
    }

    /// <summary>Adds a telemetry output, for example one an adapter builds (the TorchSharp adapter's TensorBoard writer);
    /// it receives every later step, with fault isolation (see <see cref="IGradientStepObserver"/>), and is disposed with
    /// this analyzer.</summary>
    /// <param name="observer">The output.</param>
    /// <exception cref="ArgumentNullException"><paramref name="observer"/> is null.</exception>
    public void AddStepObserver(IGradientStepObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _telemetry.Add(observer);
    }

    /// <summary>Analyzes one step: statistics, detectors and alerts, then, when <see cref="GradientMonitorOptions.Clipping"/>
    /// is set and a <paramref name="clippingTarget"/> is given, the clipping policy applied to it in place (an adapter
    /// passes its gradients; <see cref="ArrayClippingTarget"/> is the CPU reference). Without a target nothing is clipped
    /// and the result has no clipping figures.</summary>
    /// <param name="layers">One observation per layer, in the order of <see cref="LayerNames"/>.</param>
    /// <param name="loss">The loss value, when known; a non-finite loss raises an alert and skips the step.</param>
    /// <param name="clippingTarget">Where the clipping policy applies its decisions; null to measure and detect only.</param>
    /// <param name="measurementStarted">When the adapter started measuring this step (a <see cref="Stopwatch.GetTimestamp"/>
    /// value), so the overhead metric includes its reading; now when null.</param>
    /// <returns>The step's statistics, alerts, clipping figures and skip decision.</returns>
    /// <exception cref="ArgumentException">The number of observations differs from the number of layers.</exception>
    public GradientStepResult Analyze(ReadOnlySpan<LayerObservation> layers, double? loss = null, IGradientClippingTarget? clippingTarget = null, long? measurementStarted = null) =>
        AnalyzeTraced(layers, loss, clippingTarget, measurementStarted, forwardOrigin: null);

    /// <summary>As <see cref="Analyze"/>, with the module whose forward output was the first non-finite one in this
    /// step's forward pass (<see cref="NonFiniteGradientOptions.TraceOrigin"/>), or null, named in the NonFinite alert. An
    /// adapter that traces its forward pass calls this instead of <see cref="Analyze"/>.</summary>
    /// <param name="layers">One observation per layer, in the order of <see cref="Layers"/>.</param>
    /// <param name="loss">The step's loss, when known.</param>
    /// <param name="clippingTarget">Where the clipping decisions are applied; null measures without clipping.</param>
    /// <param name="measurementStarted">When the adapter started measuring this step (a <see cref="Stopwatch.GetTimestamp"/>
    /// value); now when null.</param>
    /// <param name="forwardOrigin">The name of the first module whose forward output was non-finite; null when none was or
    /// the forward pass was not traced.</param>
    /// <returns>The step's statistics, alerts, clipping figures and skip decision.</returns>
    /// <exception cref="ArgumentException">The number of observations differs from the number of layers.</exception>
    public GradientStepResult AnalyzeTraced(ReadOnlySpan<LayerObservation> layers, double? loss, IGradientClippingTarget? clippingTarget, long? measurementStarted, string? forwardOrigin)
    {
        long start = measurementStarted ?? Stopwatch.GetTimestamp();
        if (layers.Length != _layerNames.Length)
        {
            throw new ArgumentException($"Expected {_layerNames.Length} layer observations, one per layer, but got {layers.Length}.", nameof(layers));
        }

        long step = StepCount++;
        var statistics = new LayerGradientStatistics[layers.Length];
        TensorStatistics all = default;
        for (int i = 0; i < layers.Length; i++)
        {
            LayerObservation o = layers[i];
            statistics[i] = new LayerGradientStatistics
            {
                Index = i,
                Name = _layerNames[i],
                Gradient = o.Gradient,
                OutputGradientNorm = o.OutputGradientNorm,
                Parameters = o.Parameters,
                ParameterUpdateNorm = o.ParameterUpdateNorm,
                Activations = o.Activations,
            };
            all = TensorStatistics.Combine(all, layers[i].Gradient);
        }

        var evidence = new StepEvidence(step, loss, all.L2Norm, statistics, _layers, _history) { ForwardOrigin = forwardOrigin };
        List<GradientAlert> alerts = [];
        foreach (IGradientDetector detector in _detectors)
        {
            detector.Detect(evidence, alerts);
        }

        _history.Record(all.L2Norm, _spikeZScoreThreshold, statistics);

        bool nonFinite = !all.IsFinite || (loss is double l && !double.IsFinite(l));
        ClippingOutcome? clipped = _clipping is not null && clippingTarget is not null ? _clipping.Run(statistics, nonFinite, clippingTarget) : null;
        evidence.Clipping = clipped;
        foreach (IGradientDetector detector in _afterClipping)
        {
            detector.Detect(evidence, alerts);
        }

        bool skipNonFinite = nonFinite && (_skipNonFiniteSteps || clipped?.SkipStep == true);
        LastRecovery = _recovery?.Decide(step, all.L2Norm, loss, skipNonFinite, alerts) ?? default;
        var result = new GradientStepResult
        {
            Step = step,
            Kind = KindOf(step),
            GlobalNorm = evidence.GlobalNorm,
            Loss = loss,
            SkipStep = skipNonFinite || LastRecovery.SkipsStep,
            RolledBackToStep = LastRecovery.RollBackTo,
            Layers = statistics,
            DepthGain = evidence.DepthGain,
            ProbedLayerCount = evidence.ProbedLayers,
            DepthGainOverDepth = evidence.DepthGainOverDepth,
            Alerts = alerts,
            NormBeforeClipping = clipped?.NormBefore,
            NormAfterClipping = clipped?.NormAfter,
            ClippingCoefficient = clipped?.Coefficient ?? 1,
            ClippingActed = clipped?.Acted ?? false,
        };
        double overheadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        foreach (GradientAlert alert in alerts)
        {
            _publisher.Publish(alert, AlertRaised);
        }

        _telemetry.OnStep(result, overheadSeconds);
        return result;
    }

    private GradientStepKind KindOf(long step) => step % _fullStatisticsInterval == 0 ? GradientStepKind.Full : GradientStepKind.Cheap;
}
