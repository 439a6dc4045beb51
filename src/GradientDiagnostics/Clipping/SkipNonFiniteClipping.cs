namespace GradientDiagnostics;

/// <summary>Marks a step whose gradients or loss are non-finite as skipped; changes no gradient.</summary>
internal sealed class SkipNonFiniteClipping : GradientClipping
{
    public static readonly SkipNonFiniteClipping Instance = new();

    private SkipNonFiniteClipping()
    {
    }

    internal override bool SkipsNonFiniteSteps => true;

    internal override GradientClipping Bind(IReadOnlyList<string> layerNames) => this;

    internal override void Apply(ClippingContext context) => context.SkipStep |= context.NonFinite;
}
