namespace GradientDiagnostics;

/// <summary>
/// AutoClip (Seetharaman et al. 2020): each step, the pre-clip global L2 norm joins the history, and the gradients are
/// clipped as by <see cref="GlobalNormClipping"/> to the history's p-th percentile (numpy's default linear
/// interpolation). The description is immutable; the history belongs to the policy each monitor binds
/// (<see cref="AutoClipPolicy"/>), and non-finite steps never reach it.
/// </summary>
internal sealed class AutoClipClipping(double percentile, int? window) : GradientClipping
{
    internal override double? GlobalNormType => 2;

    internal override IClippingPolicy Bind(IReadOnlyList<string> layerNames) => new AutoClipPolicy(percentile, window);
}
