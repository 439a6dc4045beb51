namespace GradientDiagnostics;

/// <summary>The global-norm rule (L2) applied to each layer on its own: layer l is scaled by
/// min(1, maxNorm / (‖g_l‖₂ + 1e-6)); excluded layers are left alone.</summary>
internal sealed class LayerNormClipping(double maxNorm, LayerExclusion exclusion) : GradientClipping
{
    internal override IClippingPolicy Bind(IReadOnlyList<string> layerNames) => new Policy(maxNorm, exclusion.Resolve(layerNames));

    /// <summary>The policy bound to one monitor's layers, with the exclusions resolved.</summary>
    private sealed class Policy(double maxNorm, bool[] excluded) : IClippingPolicy
    {
        public void Apply(ClippingContext context)
        {
            Span<double> coefficients = context.LayerCount <= 256 ? stackalloc double[context.LayerCount] : new double[context.LayerCount];
            for (int i = 0; i < coefficients.Length; i++)
            {
                coefficients[i] = excluded[i] ? 1 : GlobalNormClipping.Coefficient(maxNorm, context.Layer(i).L2Norm);
            }

            context.ScaleLayers(coefficients);
        }
    }
}
