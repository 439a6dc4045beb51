namespace GradientDiagnostics;

/// <summary>
/// <c>torch.nn.utils.clip_grad_norm_</c> semantics: total = ‖(‖g_1‖_p, …, ‖g_n‖_p)‖_p over all gradients, coefficient =
/// maxNorm / (total + 1e-6) clamped to at most 1, applied to every gradient. Norm types 1, 2 and ∞ come from the
/// statistics already measured; other p need one reduction where the gradients live.
/// </summary>
internal sealed class GlobalNormClipping(double maxNorm, double normType) : GradientClipping, IClippingPolicy
{
    public double MaxNorm => maxNorm;

    internal override double? GlobalNormType => normType;

    internal override double? GlobalNormThreshold => maxNorm;

    internal override IClippingPolicy Bind(IReadOnlyList<string> layerNames) => this;

    public void Apply(ClippingContext context) => context.ScaleAll(Coefficient(maxNorm, context.TotalNorm(normType)));

    /// <summary>maxNorm / (total + 1e-6), clamped to at most 1, as PyTorch computes it.</summary>
    public static double Coefficient(double maxNorm, double total) => Math.Min(1.0, maxNorm / (total + ClippingContext.NormEpsilon));
}
