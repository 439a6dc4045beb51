namespace GradientDiagnostics;

/// <summary>
/// What recovery judges a step against, learned only from the steps it let through: the moving statistics of the global
/// gradient norm, the largest norm of the first applied steps, and the recent healthy losses. A refused spike never
/// enters them, so it cannot raise the bar it is judged against.
/// </summary>
internal sealed class RecoveryReferences
{
    private readonly ExplodingOptions _spike;
    private readonly ExponentialMovingStatistics _norms;
    private readonly LossSpikeCriterion _losses;
    private double _earlyMax;
    private long _applied;

    /// <param name="spike">The spike thresholds, a private copy.</param>
    /// <param name="options">The loss window and thresholds.</param>
    public RecoveryReferences(ExplodingOptions spike, RecoveryOptions options)
    {
        _spike = spike;
        _norms = new ExponentialMovingStatistics(spike.SpikeEmaDecay, spike.SpikeWarmupSteps);
        _losses = new LossSpikeCriterion(options.LossWindow, options.LossSpikeZScoreThreshold, options.LossSpikeMinFactorOverMean);
    }

    /// <summary>The applied steps' moving mean of the global norm, named in a refusal.</summary>
    public double MeanNorm => _norms.Mean;

    /// <summary>Judges a finite global norm against the applied steps.</summary>
    public GlobalNormSpike JudgeNorm(double globalNorm) =>
        GlobalNormSpike.Judge(globalNorm, _norms, _earlyMax, _applied >= _spike.EarlySteps, _spike);

    /// <summary>Whether a finite loss spikes against the recent healthy losses; the z-score and mean are for the alert.</summary>
    public bool IsLossSpike(double loss, out double zScore, out double mean) => _losses.IsSpike(loss, out zScore, out mean);

    /// <summary>Adds an applied step; a spiking loss is kept out (pass null), so damage never becomes the norm.</summary>
    public void Learn(bool finite, double globalNorm, double? loss)
    {
        if (!finite)
        {
            return; // applied although non-finite (SkipNonFiniteSteps is off): nothing to learn from
        }

        _norms.Add(globalNorm);
        if (_applied < _spike.EarlySteps)
        {
            _earlyMax = Math.Max(_earlyMax, globalNorm);
        }

        _applied++;
        if (loss is double value)
        {
            _losses.Add(value);
        }
    }

    public ComponentState SaveState(ComponentState state) =>
        _losses.SaveState(state.With("norms", _norms).With("earlyMaxNorm", _earlyMax).With("appliedSteps", _applied));

    public void LoadState(ComponentState state)
    {
        state.Load("norms", _norms);
        _losses.LoadState(state);
        (_earlyMax, _applied) = (state.NumberOf("earlyMaxNorm"), state.CountOf("appliedSteps"));
    }
}
