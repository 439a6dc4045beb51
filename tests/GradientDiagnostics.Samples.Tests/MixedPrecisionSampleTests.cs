using GradientDiagnostics.Samples.MixedPrecision;
using TorchSharp;

namespace GradientDiagnostics.Samples.Tests;

/// <summary>The MixedPrecision sample's claims, at a small size: naive float16 + Adam has non-finite weights, master
/// weights follow fp32, and bfloat16 with master weights follows fp32 where naive bfloat16 lags.</summary>
public sealed class MixedPrecisionSampleTests
{
    private const int Steps = 60;

    [Fact]
    public void Master_weights_follow_fp32_where_naive_16_bit_training_fails_or_lags()
    {
        Run fp32 = MixedPrecisionDemo.Train("fp32", torch.ScalarType.Float32, masters: false, adam: true, Steps);
        Run naive = MixedPrecisionDemo.Train("naive", torch.ScalarType.Float16, masters: false, adam: true, Steps);
        Run masters = MixedPrecisionDemo.Train("masters", torch.ScalarType.Float16, masters: true, adam: true, Steps);

        Assert.NotNull(naive.NonFiniteAtStep);
        Assert.Null(masters.NonFiniteAtStep);
        Assert.InRange(masters.Losses[^1], 0, 1.25 * fp32.Losses[^1]);
        Assert.Equal(65536, masters.Scales[0]);

        Run sgd = MixedPrecisionDemo.Train("fp32 sgd", torch.ScalarType.Float32, masters: false, adam: false, Steps);
        Run bfloat16 = MixedPrecisionDemo.Train("bf16", torch.ScalarType.BFloat16, masters: false, adam: false, Steps);
        Run bfloat16Masters = MixedPrecisionDemo.Train("bf16 masters", torch.ScalarType.BFloat16, masters: true, adam: false, Steps);
        Assert.InRange(bfloat16Masters.Losses[^1], 0, 1.25 * sgd.Losses[^1]);
        Assert.True(bfloat16.Losses[^1] > bfloat16Masters.Losses[^1]);
        Assert.All(bfloat16Masters.Scales, s => Assert.Equal(1, s));

        // The alerts the sample prints: naive float16 + Adam is diagnosed as non-finite weights with the remedy named;
        // naive bfloat16 loses its updates; with master weights the 16-bit copy's unchanged elements are not lost updates.
        GradientAlert nonFinite = Assert.Single(naive.Alerts, a => a.Kind == GradientAlertKind.NonFinite && a.Step == 1);
        Assert.Contains("weights of", nonFinite.Message, StringComparison.Ordinal);
        Assert.Contains("EnableMixedPrecision", nonFinite.Message, StringComparison.Ordinal);
        Assert.Null(nonFinite.Origin);
        Assert.Contains(bfloat16.Alerts, a => a.Kind == GradientAlertKind.Precision && a.Metric == GradientMetricNames.LostUpdateFraction);
        Assert.DoesNotContain(bfloat16Masters.Alerts, a => a.Kind == GradientAlertKind.Precision);
    }
}
