namespace GradientDiagnostics;

/// <summary>Element-wise clamp to [−v, v], as <c>torch.nn.utils.clip_grad_value_</c>.</summary>
internal sealed class ValueClipping(double clipValue) : GradientClipping
{
    internal override GradientClipping Bind(IReadOnlyList<string> layerNames) => this;

    internal override void Apply(ClippingContext context)
    {
        if (!context.NonFinite)
        {
            context.Clamp(clipValue);
        }
    }
}
