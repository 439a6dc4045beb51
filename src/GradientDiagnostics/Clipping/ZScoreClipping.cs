namespace GradientDiagnostics;

/// <summary>
/// ZClip (Kumar et al. 2025): z-score spike clipping of the global L2 norm against an exponential moving average of
/// mean and variance. Warm-up: the mean and population variance of the first warm-up norms, with no clipping but the
/// optional hard cap. After it: z = (g − μ)/(σ + 1e-6); when z &gt; z_thr the target is τ = μ + z_thr²·σ/z (ZClip's
/// "adaptive scaling"), and the gradients are scaled by τ / (g + 1e-6) as <see cref="GlobalNormClipping"/> would. The
/// EMA is fed the clipped value x = min(g, τ). The hard cap, when set, bounds the result on every step and does not
/// feed the EMA. The description is immutable; the moving statistics belong to the policy each monitor binds
/// (<see cref="ZScorePolicy"/>), and non-finite steps never reach it.
/// </summary>
internal sealed class ZScoreClipping(double alpha, double zThreshold, int warmupSteps, double? maxNorm) : GradientClipping
{
    internal override double? GlobalNormType => 2;

    internal override IClippingPolicy Bind(IReadOnlyList<string> layerNames) => new ZScorePolicy(alpha, zThreshold, warmupSteps, maxNorm);
}
