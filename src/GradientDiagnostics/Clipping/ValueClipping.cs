namespace GradientDiagnostics;

/// <summary>Element-wise clamp to [−v, v], as <c>torch.nn.utils.clip_grad_value_</c>.</summary>
internal sealed class ValueClipping(double clipValue) : GradientClipping, IClippingPolicy
{
    internal override IClippingPolicy Bind(IReadOnlyList<string> layerNames) => this;

    public void Apply(ClippingContext context) => context.Clamp(clipValue);
}
