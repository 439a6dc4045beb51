using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.MixedPrecision;

/// <summary>fp32 master weights make 16-bit training with Adam match fp32 (issue 21, "Master weights fix it", "bfloat16").</summary>
public sealed class MasterWeightTests(ITestOutputHelper output)
{
    private const int Steps = 60;

    [Fact]
    public void Half_model_with_adam_diverges_naively_and_ends_within_1_25x_of_fp32_on_master_weights()
    {
        (double[] fp32, _, _) = SixteenBitRun.Train(Training.Float32, ScalarType.Float32, Steps);
        (double[] naive, bool naiveNonFinite, _) = SixteenBitRun.Train(Training.Naive, ScalarType.Float16, Steps);
        (double[] masters, bool mastersNonFinite, List<GradientStepResult> results) = SixteenBitRun.Train(Training.Masters, ScalarType.Float16, Steps);
        output.WriteLine($"fp32 {SixteenBitRun.Final(fp32):G4}, naive half {SixteenBitRun.Final(naive):G4}, masters {SixteenBitRun.Final(masters):G4} (first loss {fp32[0]:G4})");

        Assert.True(naiveNonFinite, "the naive .half() + Adam run should produce non-finite weights (Adam's eps is 0 in float16)");
        Assert.False(mastersNonFinite, "no weight may ever be non-finite with master weights");
        Assert.True(SixteenBitRun.Final(fp32) < fp32[0] / 4, "the fp32 run should learn");
        Assert.InRange(SixteenBitRun.Final(masters), 0, 1.25 * SixteenBitRun.Final(fp32));
        Assert.Equal(65536, results[0].LossScale); // float16 parameters: Dynamic with GradScaler's initial scale by default
    }

    [Fact]
    public void Bfloat16_with_master_weights_ends_within_1_25x_of_fp32_and_defaults_to_no_loss_scaling()
    {
        (double[] fp32, _, _) = SixteenBitRun.Train(Training.Float32, ScalarType.Float32, Steps);
        (double[] masters, bool nonFinite, List<GradientStepResult> results) = SixteenBitRun.Train(Training.Masters, ScalarType.BFloat16, Steps);
        output.WriteLine($"fp32 {SixteenBitRun.Final(fp32):G4}, bfloat16 masters {SixteenBitRun.Final(masters):G4}");

        Assert.False(nonFinite);
        Assert.InRange(SixteenBitRun.Final(masters), 0, 1.25 * SixteenBitRun.Final(fp32));
        Assert.All(results, r => Assert.Equal(1, r.LossScale));
    }
}
