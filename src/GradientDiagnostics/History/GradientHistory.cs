namespace GradientDiagnostics;

/// <summary>
/// What the monitor remembers across steps, in bounded memory: per layer a rolling window and exponential moving
/// statistics of the gradient norm, and the same for the global norm, plus the largest global norm of the first steps.
/// Memory is O(layers × <see cref="WindowLength"/>), fixed at construction, whatever the run length.
/// </summary>
internal sealed class GradientHistory
{
    /// <summary>The number of most recent steps each rolling window keeps.</summary>
    public const int WindowLength = 100;

    private readonly RollingWindow[] _layerNorms;
    private readonly ExponentialMovingStatistics[] _layerMoving;
    private readonly int _earlySteps;

    public GradientHistory(int layerCount, double decay, int warmupSteps, int earlySteps)
    {
        _layerNorms = new RollingWindow[layerCount];
        _layerMoving = new ExponentialMovingStatistics[layerCount];
        for (int i = 0; i < layerCount; i++)
        {
            _layerNorms[i] = new RollingWindow(WindowLength);
            _layerMoving[i] = new ExponentialMovingStatistics(decay, warmupSteps);
        }

        GlobalNorms = new RollingWindow(WindowLength);
        GlobalMoving = new ExponentialMovingStatistics(decay, warmupSteps);
        _earlySteps = earlySteps;
    }

    /// <summary>The number of steps recorded.</summary>
    public long Steps { get; private set; }

    /// <summary>The global gradient norms of the last <see cref="WindowLength"/> steps.</summary>
    public RollingWindow GlobalNorms { get; }

    /// <summary>The exponential moving mean and variance of the global gradient norm.</summary>
    public ExponentialMovingStatistics GlobalMoving { get; }

    /// <summary>The largest finite global norm over the first <c>earlySteps</c> steps (Megatron-LM's reference for
    /// "unexpectedly large"); 0 until a finite norm was seen.</summary>
    public double EarlyMaxGlobalNorm { get; private set; }

    /// <summary>True once the first <c>earlySteps</c> steps are recorded and <see cref="EarlyMaxGlobalNorm"/> is final.</summary>
    public bool EarlyMaxIsFinal => Steps >= _earlySteps;

    /// <summary>Per layer, the gradient norms of the last <see cref="WindowLength"/> steps.</summary>
    public IReadOnlyList<RollingWindow> LayerNorms => _layerNorms;

    /// <summary>Per layer, the exponential moving mean and variance of the gradient norm.</summary>
    public IReadOnlyList<ExponentialMovingStatistics> LayerMoving => _layerMoving;

    /// <summary>Records a step, after the detectors have compared it with the history.</summary>
    /// <param name="globalNorm">The global norm.</param>
    /// <param name="spikeZScore">The z-score at which the global norm is clipped before it enters the moving statistics:
    /// as in ZClip, a spike is fed back as μ + z·σ, so it does not inflate the mean and variance it is judged against.</param>
    /// <param name="layers">The step's per-layer statistics.</param>
    public void Record(double globalNorm, double spikeZScore, LayerGradientStatistics[] layers)
    {
        double movingGlobalNorm = GlobalMoving.IsWarm
            ? Math.Min(globalNorm, GlobalMoving.Mean + (spikeZScore * GlobalMoving.StandardDeviation))
            : globalNorm;
        if (Steps < _earlySteps && double.IsFinite(globalNorm))
        {
            EarlyMaxGlobalNorm = Math.Max(EarlyMaxGlobalNorm, globalNorm);
        }

        GlobalNorms.Add(globalNorm);
        GlobalMoving.Add(movingGlobalNorm);
        for (int i = 0; i < _layerNorms.Length && i < layers.Length; i++)
        {
            double norm = layers[i].GradientNorm;
            _layerNorms[i].Add(norm);
            _layerMoving[i].Add(norm);
        }

        Steps++;
    }

    /// <summary>The state to save with a checkpoint, each layer's under its name.</summary>
    public GradientHistoryState SaveState(IReadOnlyList<string> layerNames)
    {
        var state = new GradientHistoryState
        {
            Steps = Steps,
            EarlyMaxGlobalNorm = EarlyMaxGlobalNorm,
            GlobalNorms = GlobalNorms.SaveState(),
            GlobalMoving = GlobalMoving.SaveState(),
        };
        for (int i = 0; i < _layerNorms.Length; i++)
        {
            state.Layers[layerNames[i]] = new LayerHistoryState { Norms = _layerNorms[i].SaveState(), Moving = _layerMoving[i].SaveState() };
        }

        return state;
    }

    /// <summary>Restores a state saved by <see cref="SaveState"/>; the caller has checked the layer names.</summary>
    /// <exception cref="InvalidDataException">A layer is missing or a window does not fit.</exception>
    public void LoadState(GradientHistoryState state, IReadOnlyList<string> layerNames)
    {
        GlobalNorms.LoadState(state.GlobalNorms);
        GlobalMoving.LoadState(state.GlobalMoving);
        for (int i = 0; i < _layerNorms.Length; i++)
        {
            if (!state.Layers.TryGetValue(layerNames[i], out LayerHistoryState? layer))
            {
                throw new InvalidDataException($"The saved history has no layer '{layerNames[i]}'.");
            }

            _layerNorms[i].LoadState(layer.Norms);
            _layerMoving[i].LoadState(layer.Moving);
        }

        (Steps, EarlyMaxGlobalNorm) = (state.Steps, state.EarlyMaxGlobalNorm);
    }
}
