using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GradientDiagnostics.Tests.Clipping;

namespace GradientDiagnostics.Tests.Reliability;

/// <summary>Issue 9 §7, beyond the existing properties (<c>TensorStatisticsPropertyTests</c>, <c>ClippingPropertyTests</c>,
/// <c>DeterminismPropertyTests</c>, which use moderate values and fixed thresholds): generated shapes, extreme finite values
/// (subnormals, ±1e38), generated thresholds and policies, and NaN / ±Infinity anywhere.</summary>
public sealed class HostileInputPropertyTests
{
    /// <summary>Finite floats across the whole range: zeros, subnormals, ±1e38, float.MaxValue and ordinary values.</summary>
    private static Gen<float> FiniteExtreme() => Gen.Frequency(
        (2, Gen.Elements(0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, 1.1754942e-38f)),
        (2, Gen.Elements(1e38f, -1e38f, float.MaxValue, -float.MaxValue, 3e37f)),
        (8, Gen.Choose(-1_000_000, 1_000_000).SelectMany(m => Gen.Choose(-45, 38), (m, e) => (float)(m * 1e-6 * Math.Pow(10, e)))));

    private static Gen<float> NonFinite() => Gen.Elements(float.NaN, float.PositiveInfinity, float.NegativeInfinity);

    /// <summary>1 to 4 layers of 0 to 40 elements each.</summary>
    private static Gen<float[][]> Layers(Gen<float> element) =>
        Gen.Choose(1, 4).SelectMany(n => Gen.Choose(0, 40).SelectMany(length => element.ArrayOf(length)).ArrayOf(n));

    /// <summary>A bound from 1e-30 to 1e30, log-uniform.</summary>
    private static Gen<double> Bound() => Gen.Choose(-30, 30).SelectMany(e => Gen.Choose(1, 9), (e, m) => m * Math.Pow(10, e));

    private static Gen<GradientClipping> Policy() =>
        from bound in Bound()
        from which in Gen.Choose(0, 8)
        select which switch
        {
            0 => GradientClipping.ByGlobalNorm(bound),
            1 => GradientClipping.ByGlobalNorm(bound, 1),
            2 => GradientClipping.ByGlobalNorm(bound, double.PositiveInfinity),
            3 => GradientClipping.ByValue(bound),
            4 => GradientClipping.ByLayerNorm(bound),
            5 => GradientClipping.Adaptive(Math.Min(bound, 1)),
            6 => GradientClipping.AutoClip(),
            7 => GradientClipping.ZScore(warmupSteps: 1, maxNorm: bound),
            _ => GradientClipping.SkipNonFinite().Then(GradientClipping.ByGlobalNorm(bound)),
        };

    private static double L2(float[] x) => Math.Sqrt(x.Sum(v => (double)v * v));

    private static ClippingHarness Harness(GradientClipping policy, float[][] layers) =>
        new(policy, [.. layers.Select(l => ClippingHarness.Layer([.. l]))]);

    [Property(MaxTest = 300)]
    public Property Clipping_extreme_finite_gradients_never_increases_a_norm_nor_produces_a_non_finite_value() =>
        Prop.ForAll(Layers(FiniteExtreme()).ToArbitrary(), Policy().ToArbitrary(), (layers, policy) =>
        {
            ClippingHarness h = Harness(policy, layers);
            GradientStepResult result = h.Step();
            for (int i = 0; i < layers.Length; i++)
            {
                float[] after = h.Gradient(i);
                if (!after.All(float.IsFinite) || L2(after) > L2(layers[i]) * (1 + 1e-6)
                    || after.Zip(layers[i]).Any(p => Math.Abs(p.First) > Math.Abs(p.Second)))
                {
                    return false;
                }
            }

            return !result.SkipStep && double.IsFinite(result.NormAfterClipping!.Value)
                && result.NormAfterClipping <= result.NormBeforeClipping * (1 + 1e-6);
        });

    [Property(MaxTest = 300)]
    public Property Extreme_finite_gradients_have_finite_statistics_equal_to_the_double_reference() =>
        Prop.ForAll(Layers(FiniteExtreme()).ToArbitrary(), layers =>
        {
            var analyzer = new GradientAnalyzer([.. layers.Select((_, i) => $"l{i}")], new GradientMonitorOptions());
            GradientStepResult result = analyzer.Analyze([.. layers.Select(l => LayerObservations.Create(l))]);
            double global = Math.Sqrt(layers.Sum(l => l.Sum(v => (double)v * v)));
            bool layersMatch = result.Layers.Zip(layers).All(p => Close(p.First.GradientNorm, L2(p.Second)) && p.First.Gradient.IsFinite);
            return layersMatch && Close(result.GlobalNorm, global) && !result.SkipStep
                && result.Alerts.All(a => a.Kind != GradientAlertKind.NonFinite);
        });

    [Property(MaxTest = 300)]
    public Property Any_non_finite_gradient_is_skipped_and_named_at_the_layer_closest_to_the_loss() =>
        Prop.ForAll(Layers(FiniteExtreme()).ToArbitrary(), NonFinite().SelectMany(v => Gen.Choose(0, 1000), (v, p) => (v, p)).ToArbitrary(), Policy().ToArbitrary(),
            (layers, fault, policy) =>
            {
                (float bad, int position) = fault;
                int layer = position % layers.Length;
                float[] target = layers[layer].Length == 0 ? layers[layer] = new float[1] : layers[layer];
                target[position % target.Length] = bad;
                ClippingHarness h = Harness(policy, layers);
                GradientStepResult result = h.Step();
                GradientAlert? alert = result.Alerts.FirstOrDefault(a => a.Kind == GradientAlertKind.NonFinite);
                return result.SkipStep && alert?.Layer == $"layer{Array.FindLastIndex(layers, l => !l.All(float.IsFinite))}";
            });

    [Property(MaxTest = 40)]
    public Property Detectors_with_generated_thresholds_are_deterministic() =>
        Prop.ForAll(Layers(Gen.Frequency((1, NonFinite()), (9, FiniteExtreme()))).ArrayOf().ToArbitrary(), Gen.Choose(1, 6).ToArbitrary(), Bound().ToArbitrary(),
            (steps, persistence, threshold) =>
            {
                string[] first = Alerts(steps, persistence, threshold), second = Alerts(steps, persistence, threshold);
                return first.SequenceEqual(second);
            });

    private static string[] Alerts(float[][][] steps, int persistence, double threshold)
    {
        var options = new GradientMonitorOptions();
        (options.Vanishing.Persistence, options.Vanishing.PersistenceWindow) = (persistence, 6);
        (options.Exploding.Persistence, options.Exploding.PersistenceWindow) = (1, 1);
        options.Exploding.GlobalNormThreshold = threshold;
        options.Vanishing.MeanMagnitudeThreshold = Math.Min(threshold, 1e-3);
        int width = steps.Length == 0 ? 1 : steps.Max(s => s.Length);
        var analyzer = new GradientAnalyzer([.. Enumerable.Range(0, width).Select(i => $"l{i}")], options);
        return [.. steps.SelectMany(s => analyzer.Analyze([.. Enumerable.Range(0, width).Select(i => LayerObservations.Create(i < s.Length ? s[i] : []))])
            .Alerts.Select(a => a.ToString()))];
    }

    /// <summary>Relative agreement to 1e-6 (float32 sums in double), with exact agreement at zero.</summary>
    private static bool Close(double actual, double expected) =>
        actual == expected || Math.Abs(actual - expected) <= 1e-6 * Math.Abs(expected);
}
