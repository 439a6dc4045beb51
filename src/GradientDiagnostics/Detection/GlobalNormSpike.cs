namespace GradientDiagnostics;

/// <summary>
/// The spike criteria of <see cref="ExplodingOptions"/> on one global norm, shared by the exploding-gradient
/// detector (which alerts) and recovery (which refuses the step), so both judge a spike the same way.
/// </summary>
internal readonly record struct GlobalNormSpike(bool ZScoreSpike, bool EarlyMaxSpike, double ZScore, double OverEarlyMax)
{
    /// <summary>True when either criterion holds.</summary>
    public bool IsSpike => ZScoreSpike || EarlyMaxSpike;

    /// <summary>Judges <paramref name="global"/> against moving statistics of earlier norms and the largest norm of the
    /// first steps: a z-score above <see cref="ExplodingOptions.SpikeZScoreThreshold"/> that is also a real jump
    /// (at least <see cref="ExplodingOptions.SpikeMinFactorOverMean"/> × the moving mean and, once the early
    /// reference is final, above it), or at least <see cref="ExplodingOptions.SpikeFactorOverEarlyMax"/> × the
    /// early maximum.</summary>
    public static GlobalNormSpike Judge(double global, ExponentialMovingStatistics moving, double earlyMax, bool earlyMaxIsFinal, ExplodingOptions options)
    {
        double z = moving.IsWarm ? moving.ZScore(global) : 0;
        double overEarly = earlyMaxIsFinal && earlyMax > 0 ? global / earlyMax : 0;
        // Norms fall as training proceeds: returning to the starting scale is no explosion.
        bool zSpike = z > options.SpikeZScoreThreshold && global >= options.SpikeMinFactorOverMean * moving.Mean &&
            (!earlyMaxIsFinal || global > earlyMax);
        return new GlobalNormSpike(zSpike, overEarly >= options.SpikeFactorOverEarlyMax, z, overEarly);
    }
}
