namespace GradientDiagnostics;

/// <summary>
/// ZClip (Kumar et al. 2025): z-score spike clipping of the global L2 norm against an exponential moving average of
/// mean and variance, the state being this monitor's own (see <see cref="Bind"/>). Warm-up: the mean and population
/// variance of the first warm-up norms, with no clipping but the optional hard cap. After it: z = (g − μ)/(σ + 1e-6);
/// when z &gt; z_thr the target is τ = μ + z_thr²·σ/z (ZClip's "adaptive scaling"), and the gradients are scaled by
/// τ / (g + 1e-6) as <see cref="GlobalNormClipping"/> would. The EMA is fed the clipped value x = min(g, τ):
/// μ ← αμ + (1−α)x, then σ² ← ασ² + (1−α)(x − μ)² with the new μ. The hard cap, when set, bounds the result on every
/// step and does not feed the EMA. Non-finite steps are not fed to it.
/// </summary>
internal sealed class ZScoreClipping(double alpha, double zThreshold, int warmupSteps, double? maxNorm) : GradientClipping
{
    private readonly List<double> _warmup = [];
    private double _mean;
    private double _variance;

    internal override double? GlobalNormType => 2;

    internal double Mean => _mean;

    internal double Variance => _variance;

    internal override GradientClipping Bind(IReadOnlyList<string> layerNames) => new ZScoreClipping(alpha, zThreshold, warmupSteps, maxNorm);

    internal override void Apply(ClippingContext context)
    {
        if (context.NonFinite)
        {
            return;
        }

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
        if (_warmup.Count < warmupSteps)
        {
            _warmup.Add(norm);
            if (_warmup.Count == warmupSteps)
            {
                _mean = _warmup.Average();
                double mean = _mean;
                _variance = _warmup.Sum(x => (x - mean) * (x - mean)) / _warmup.Count;
            }

            return norm;
        }

        double std = Math.Sqrt(_variance);
        double z = (norm - _mean) / (std + ClippingContext.NormEpsilon);
        double clipped = z > zThreshold ? _mean + (zThreshold * zThreshold * std / z) : norm;
        _mean = (alpha * _mean) + ((1 - alpha) * clipped);
        _variance = (alpha * _variance) + ((1 - alpha) * (clipped - _mean) * (clipped - _mean));
        return clipped;
    }
}
