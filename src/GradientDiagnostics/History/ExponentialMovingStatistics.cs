namespace GradientDiagnostics;

/// <summary>
/// Exponential moving mean and variance of a series, as ZClip (Kumar et al. 2025, "ZClip: Adaptive Spike Mitigation
/// for LLM Pre-Training") tracks the gradient norm: μ ← α·μ + (1 − α)·x and σ² ← α·σ² + (1 − α)·(x − μ)².
/// </summary>
/// <remarks>Until <see cref="WarmupCount"/> values have been seen, the mean and variance are the plain sample mean
/// and population variance of those values (Welford), which is ZClip's warm-up initialization.</remarks>
internal sealed class ExponentialMovingStatistics(double decay, int warmupCount)
{
    private double _mean;
    private double _variance;

    /// <summary>The number of finite values seen.</summary>
    public long Count { get; private set; }

    /// <summary>The number of values averaged plainly before the exponential updates start.</summary>
    public int WarmupCount { get; } = warmupCount;

    /// <summary>True once <see cref="WarmupCount"/> values have been seen.</summary>
    public bool IsWarm => Count >= WarmupCount;

    /// <summary>The moving mean.</summary>
    public double Mean => _mean;

    /// <summary>The moving population variance.</summary>
    public double Variance => _variance;

    /// <summary>The moving standard deviation.</summary>
    public double StandardDeviation => Math.Sqrt(_variance);

    /// <summary>(x − μ) / σ against the current statistics; 0 when σ is 0 and x equals μ, +∞ when σ is 0 and x &gt; μ.</summary>
    public double ZScore(double value)
    {
        double deviation = value - _mean;
        double sigma = StandardDeviation;
        return sigma > 0 ? deviation / sigma : deviation > 0 ? double.PositiveInfinity : deviation < 0 ? double.NegativeInfinity : 0;
    }

    /// <summary>Adds a value; non-finite values are ignored so one NaN step does not poison the history.</summary>
    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            return;
        }

        Count++;
        if (Count <= WarmupCount)
        {
            double delta = value - _mean;
            _mean += delta / Count;
            _variance += ((delta * (value - _mean)) - _variance) / Count;
            return;
        }

        _mean = (decay * _mean) + ((1 - decay) * value);
        double d = value - _mean;
        _variance = (decay * _variance) + ((1 - decay) * d * d);
    }

    /// <summary>The state to save with a checkpoint.</summary>
    public MovingState SaveState() => new() { Count = Count, Mean = _mean, Variance = _variance };

    /// <summary>Restores a state saved by <see cref="SaveState"/>.</summary>
    /// <exception cref="InvalidDataException">The count is negative or the variance is negative or not finite.</exception>
    public void LoadState(MovingState state)
    {
        if (state.Count < 0 || !(state.Variance >= 0) || !double.IsFinite(state.Variance) || !double.IsFinite(state.Mean))
        {
            throw new InvalidDataException($"A saved moving statistic is invalid (count {state.Count}, mean {state.Mean}, variance {state.Variance}).");
        }

        (Count, _mean, _variance) = (state.Count, state.Mean, state.Variance);
    }
}
