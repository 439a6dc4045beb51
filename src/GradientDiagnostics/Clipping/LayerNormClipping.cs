namespace GradientDiagnostics;

/// <summary>The global-norm rule (L2) applied to each layer on its own: layer l is scaled by
/// min(1, maxNorm / (‖g_l‖₂ + 1e-6)); excluded layers are left alone.</summary>
internal sealed class LayerNormClipping(double maxNorm, LayerExclusion exclusion, bool[]? excluded = null) : GradientClipping
{
    internal override GradientClipping Bind(IReadOnlyList<string> layerNames) => new LayerNormClipping(maxNorm, exclusion, exclusion.Resolve(layerNames));

    internal override void Apply(ClippingContext context)
    {
        if (context.NonFinite)
        {
            return;
        }

        Span<double> coefficients = context.LayerCount <= 256 ? stackalloc double[context.LayerCount] : new double[context.LayerCount];
        for (int i = 0; i < coefficients.Length; i++)
        {
            coefficients[i] = excluded is not null && excluded[i] ? 1 : GlobalNormClipping.Coefficient(maxNorm, context.Layer(i).L2Norm);
        }

        context.ScaleLayers(coefficients);
    }
}
