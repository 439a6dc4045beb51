using System.Numerics.Tensors;

namespace GradientDiagnostics;

/// <summary>
/// Adaptive gradient clipping, unit-wise (Brock, De, Smith &amp; Simonyan 2021, NFNets; the unit-wise norm of their
/// reference code). A unit is one output row of a Linear weight [out, in], one output filter of a Conv weight
/// [out, in, k…] (dimension 0), or a whole tensor of at most one dimension (bias, norm gain). For each unit i:
/// max = λ · max(‖W_i‖₂, ε), and when ‖G_i‖₂ &gt; max, G_i ← G_i · max / max(‖G_i‖₂, 1e-6).
/// </summary>
internal sealed class AdaptiveGradientClipping(double clipping, double epsilon, LayerExclusion exclusion) : GradientClipping
{
    internal override IClippingPolicy Bind(IReadOnlyList<string> layerNames) => new Policy(clipping, epsilon, exclusion.Resolve(layerNames));

    /// <summary>The CPU reference: clips one parameter's gradient in place, unit by unit.</summary>
    /// <param name="gradient">The gradient, row-major, <paramref name="units"/> equal consecutive slices.</param>
    /// <param name="weight">The parameter, same layout.</param>
    /// <param name="units">The number of units: dimension 0 for a tensor of two or more dimensions, 1 otherwise.</param>
    /// <param name="clipping">λ.</param>
    /// <param name="epsilon">ε.</param>
    /// <returns>Whether any unit was scaled.</returns>
    public static bool ClipUnits(Span<float> gradient, ReadOnlySpan<float> weight, int units, double clipping, double epsilon)
    {
        if (gradient.Length != weight.Length || units < 1 || gradient.Length % units != 0)
        {
            throw new ArgumentException("The gradient and the weight must have the same length, a multiple of the number of units.", nameof(gradient));
        }

        int size = gradient.Length / units;
        bool acted = false;
        for (int i = 0; i < units; i++)
        {
            Span<float> g = gradient.Slice(i * size, size);
            double max = clipping * Math.Max(Norm(weight.Slice(i * size, size)), epsilon);
            double norm = Norm(g);
            if (norm > max)
            {
                TensorPrimitives.Multiply(g, (float)(max / Math.Max(norm, GradientClipping.AdaptiveGradientNormFloor)), g);
                acted = true;
            }
        }

        return acted;
    }

    private static double Norm(ReadOnlySpan<float> values) => Math.Sqrt(TensorStatistics.Compute(values).SumOfSquares);

    /// <summary>The policy bound to one monitor's layers, with the exclusions resolved.</summary>
    private sealed class Policy(double clipping, double epsilon, bool[] excluded) : IClippingPolicy
    {
        public void Apply(ClippingContext context) => context.ClipUnitWise(clipping, epsilon, excluded);
    }
}
