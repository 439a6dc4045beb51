namespace GradientDiagnostics;

/// <summary>One monitor's ZClip (<see cref="ZScoreClipping"/>): the moving mean and variance of the clipped global
/// L2 norm, kept by <see cref="ExponentialMovingStatistics"/> (plain mean and population variance over the warm-up,
/// then μ ← αμ + (1−α)x and σ² ← ασ² + (1−α)(x − μ)² with the new μ, exactly ZClip's update).</summary>
internal sealed class ZScorePolicy(double alpha, double zThreshold, int warmupSteps, double? maxNorm) : IClippingPolicy
{
    private readonly ExponentialMovingStatistics _moving = new(alpha, warmupSteps);

    internal double Mean => _moving.Mean;

    internal double Variance => _moving.Variance;

    public void Apply(ClippingContext context)
    {
        double norm = context.TotalNorm(2);
        double target = Observe(norm);
        if (maxNorm is double cap)
        {
            target = Math.Min(target, cap);
        }

        if (target < norm)
        {
            context.ScaleAll(GlobalNormClipping.Coefficient(target, norm));
        }
    }

    /// <summary>Feeds one pre-clip norm and returns the norm the gradients must be brought to (the norm itself when no
    /// clipping is due), before the hard cap.</summary>
    public double Observe(double norm)
    {
        if (!_moving.IsWarm)
        {
            _moving.Add(norm);
            return norm;
        }

        // ZClip divides by σ + ε (not σ alone, as the detectors' z-score does), so a flat history still clips.
        double std = _moving.StandardDeviation;
        double z = (norm - _moving.Mean) / (std + ClippingContext.NormEpsilon);
        double clipped = z > zThreshold ? _moving.Mean + (zThreshold * zThreshold * std / z) : norm;
        _moving.Add(clipped);
        return clipped;
    }

    public ComponentState SaveState() => new ComponentState().With("norm", _moving);

    public void LoadState(ComponentState state) => state.Load("norm", _moving);
}
