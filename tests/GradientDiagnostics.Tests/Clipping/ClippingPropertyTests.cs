using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace GradientDiagnostics.Tests.Clipping;

/// <summary>Properties every policy must keep, on random finite gradients.</summary>
public sealed class ClippingPropertyTests
{
    private static float[] Finite(NormalFloat[] values) =>
        values.Length == 0 ? [0f] : [.. values.Select(v => (float)Math.Clamp(v.Get, -1e6, 1e6))];

    private static ClippingHarness Harness(GradientClipping policy, float[] a, float[] b) =>
        new(policy, [ClippingHarness.Vector(a, [.. a.Select(x => x * 3 + 1)])], [ClippingHarness.Vector(b, [.. b.Select(x => -x)])]);

    private static GradientClipping[] AllPolicies(double bound) =>
    [
        GradientClipping.ByGlobalNorm(bound),
        GradientClipping.ByGlobalNorm(bound, 1),
        GradientClipping.ByGlobalNorm(bound, double.PositiveInfinity),
        GradientClipping.ByValue(bound),
        GradientClipping.ByLayerNorm(bound),
        GradientClipping.Adaptive(Math.Min(bound, 1)),
        GradientClipping.AutoClip(),
        GradientClipping.ZScore(warmupSteps: 1, maxNorm: bound),
        GradientClipping.SkipNonFinite().Then(GradientClipping.Adaptive()).Then(GradientClipping.ByGlobalNorm(bound)),
    ];

    private static double L2(float[] x) => Math.Sqrt(x.Sum(v => (double)v * v));

    [Property(MaxTest = 200)]
    public bool Clipping_never_increases_any_norm_it_bounds(NormalFloat[] first, NormalFloat[] second, PositiveInt bound)
    {
        float[] a = Finite(first), b = Finite(second);
        double maxNorm = bound.Get / 10.0;
        foreach (GradientClipping policy in AllPolicies(maxNorm))
        {
            ClippingHarness h = Harness(policy, [.. a], [.. b]);
            GradientStepResult result = h.Step();
            float[] ca = h.Gradient(0), cb = h.Gradient(1);
            bool elementsShrink = a.Zip(ca).All(p => Math.Abs(p.Second) <= Math.Abs(p.First)) && b.Zip(cb).All(p => Math.Abs(p.Second) <= Math.Abs(p.First));
            bool layersShrink = L2(ca) <= L2(a) && L2(cb) <= L2(b);
            if (!elementsShrink || !layersShrink || result.NormAfterClipping > result.NormBeforeClipping * (1 + 1e-6))
            {
                return false;
            }
        }

        return true;
    }

    [Property(MaxTest = 200)]
    public bool Finite_input_never_yields_non_finite_output(NormalFloat[] first, NormalFloat[] second, PositiveInt bound)
    {
        float[] a = Finite(first), b = Finite(second);
        foreach (GradientClipping policy in AllPolicies(bound.Get / 1000.0))
        {
            ClippingHarness h = Harness(policy, [.. a], [.. b]);
            GradientStepResult result = h.Step();
            if (!h.Gradient(0).All(float.IsFinite) || !h.Gradient(1).All(float.IsFinite) || !double.IsFinite(result.NormAfterClipping!.Value) || result.SkipStep)
            {
                return false;
            }
        }

        return true;
    }

    [Property(MaxTest = 200)]
    public bool ByGlobalNorm_is_monotone_in_max_norm(NormalFloat[] first, PositiveInt small, PositiveInt extra, bool infinityNorm)
    {
        float[] a = Finite(first);
        double lower = small.Get / 100.0, higher = lower + (extra.Get / 100.0);
        double normType = infinityNorm ? double.PositiveInfinity : 2;
        var low = new ClippingHarness(GradientClipping.ByGlobalNorm(lower, normType), [ClippingHarness.Vector([.. a])]);
        var high = new ClippingHarness(GradientClipping.ByGlobalNorm(higher, normType), [ClippingHarness.Vector([.. a])]);

        GradientStepResult l = low.Step(), h = high.Step();

        return l.NormAfterClipping <= h.NormAfterClipping && l.ClippingCoefficient <= h.ClippingCoefficient &&
            low.Gradient(0).Zip(high.Gradient(0)).All(p => Math.Abs(p.First) <= Math.Abs(p.Second));
    }
}
