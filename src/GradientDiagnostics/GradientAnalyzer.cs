using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GradientDiagnostics.Adapters;

/// <summary>
/// The framework-free heart of the monitor: turns one step's per-layer observations into a
/// <see cref="GradientStepResult"/> (statistics → detectors → alerts), logs the alerts and raises
/// <see cref="AlertRaised"/>. Adapters such as GradientDiagnostics.TorchSharp measure the layers and call
/// <see cref="Analyze"/> once per step; it can be driven directly from plain arrays as well.
/// </summary>
/// <remarks>Not thread-safe: one training loop drives one analyzer.</remarks>
public sealed partial class GradientAnalyzer : IDisposable
{
    private readonly LayerDescriptor[] _layers;
    private readonly string[] _layerNames;
    private readonly int _fullStatisticsInterval;
    private readonly int? _timeInterval;
    private readonly bool _skipNonFiniteSteps;
    private readonly double _spikeZScoreThreshold;
    private readonly ILogger _logger;
    private readonly IGradientDetector[] _detectors;
    private readonly IGradientDetector[] _afterClipping;
    private readonly (string Name, IGradientDetector Detector)[] _detectorsByName;
    private readonly ClippingStage? _clipping;
    private readonly GradientHistory _history;
    private readonly AlertPublisher _publisher;
    private readonly TelemetryOutputs _telemetry;
    private readonly ExplodingOptions _spikeAtAttach;
    private RecoveryTargetDriver? _recovery;
    private LossScaler? _scaler;
    private readonly TensorStatistics?[] _lastParameters;
    private bool _previousStepSkipped;

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
        _lastParameters = new TensorStatistics?[_layers.Length];
        // Options are copied here, after validation: each detector and the clipping stage get their own copy, and the
        // analyzer keeps the values it reads per step, so changing the options object after attach has no effect.
        _fullStatisticsInterval = options.FullStatisticsInterval;
        _timeInterval = options.ThroughTime.Enabled ? options.ThroughTime.Interval ?? options.FullStatisticsInterval : null;
        HorizonFraction = options.ThroughTime.HorizonFraction;
        MaxReplayedSequences = options.ThroughTime.MaxSequences;
        _skipNonFiniteSteps = options.SkipNonFiniteSteps;
        _spikeZScoreThreshold = options.Exploding.SpikeZScoreThreshold;
        _spikeAtAttach = (ExplodingOptions)options.Exploding.CopyOptions();
        _logger = logger ?? NullLogger.Instance;
        _publisher = new AlertPublisher(_logger, this);

        var context = new DetectorContext(_layers, ClippingConfigured: options.Clipping is not null);
        _detectorsByName = [.. options.Detectors.Select(d => (d.Path, Detector: d.Options.Build(context)))
            .Where(d => d.Detector is not null).Select(d => (d.Path, d.Detector!))];
        IGradientDetector[] detectors = [.. _detectorsByName.Select(d => d.Detector)];
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

    /// <summary>Whether the next step measures the gradient flow through time of recurrent layers
    /// (<see cref="GradientStepResult.TimeProfiles"/>): every <see cref="ThroughTimeOptions.Interval"/> steps (by default
    /// on the full-statistics steps), from step 0; never when <see cref="ThroughTimeOptions.Enabled"/> is off. Adapters
    /// read it before a step's forward pass to arm their recurrent probes.</summary>
    public bool NextStepMeasuresTime => _timeInterval is int interval && StepCount % interval == 0;

    /// <summary>The <see cref="ThroughTimeOptions.HorizonFraction"/> copied at construction, for the profiles an adapter
    /// builds (<see cref="RecurrentTimeProfile.WithStepNorms"/>).</summary>
    public double HorizonFraction { get; }

    /// <summary>The <see cref="ThroughTimeOptions.MaxSequences"/> copied at construction: the most sequences an adapter
    /// re-runs to profile a fused recurrent module.</summary>
    public int MaxReplayedSequences { get; }

    /// <summary>Builds an HTML report of the run so far from the bounded history the analyzer keeps
    /// (see <see cref="GradientMonitorOptions.Report"/>).</summary>
    /// <param name="title">The report's title; "training run" when null.</param>
    /// <returns>A snapshot: later steps do not change it.</returns>
    public GradientReport CreateReport(string? title = null) => new(_telemetry.History.Snapshot(), title ?? "training run");

    /// <summary>Flushes and closes the telemetry outputs (the JSON Lines file). Safe to call more than once.</summary>
    public void Dispose() => _telemetry.Dispose();

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

    private GradientStepKind KindOf(long step) => step % _fullStatisticsInterval == 0 ? GradientStepKind.Full : GradientStepKind.Cheap;
}
