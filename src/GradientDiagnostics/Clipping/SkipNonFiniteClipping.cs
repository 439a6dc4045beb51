namespace GradientDiagnostics;

/// <summary>Marks a step whose gradients or loss are non-finite as skipped, whatever
/// <see cref="GradientMonitorOptions.SkipNonFiniteSteps"/> says; changes no gradient. The clipping stage reads
/// <see cref="SkipsNonFiniteSteps"/>, so the bound policy has nothing to do on a finite step.</summary>
internal sealed class SkipNonFiniteClipping : GradientClipping, IClippingPolicy
{
    public static readonly SkipNonFiniteClipping Instance = new();

    private SkipNonFiniteClipping()
    {
    }

    internal override bool SkipsNonFiniteSteps => true;

    internal override IClippingPolicy Bind(IReadOnlyList<string> layerNames) => this;

    public void Apply(ClippingContext context)
    {
        // Nothing on a finite step; non-finite steps are the stage's, which never calls a policy on them.
    }
}
