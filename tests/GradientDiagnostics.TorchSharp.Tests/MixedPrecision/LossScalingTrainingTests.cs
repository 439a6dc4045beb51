using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.MixedPrecision;

/// <summary>Loss scaling matters and works (issue 21): float16 gradients that flush to zero stall master-weight training
/// without scaling, and train as fp32 does with dynamic scaling.</summary>
public sealed class LossScalingTrainingTests(ITestOutputHelper output)
{
    // The objective is the MSE × 1e-8: its gradients (≈ 1e-10–1e-9) are below float16's smallest subnormal 2⁻²⁴ ≈ 6e-8,
    // so they are stored as 0; scaled by 65536 they are not. Adam is scale-invariant, with eps far below the gradients,
    // so fp32 trains on them as on the plain MSE.
    private const double LossFactor = 1e-8;
    private const double Eps = 1e-30;
    private const int Steps = 60;

    [Fact]
    public void Underflowing_float16_gradients_stall_without_loss_scaling_and_train_within_1_25x_of_fp32_with_dynamic()
    {
        (double[] fp32, _, _) = SixteenBitRun.Train(Training.Float32, ScalarType.Float32, Steps, lossFactor: LossFactor, eps: Eps);
        (double[] none, _, List<GradientStepResult> noneResults) = SixteenBitRun.Train(Training.Masters, ScalarType.Float16, Steps, lossFactor: LossFactor, eps: Eps,
            mixed: o => o.LossScaling = LossScaling.None);
        (double[] dynamic, bool nonFinite, List<GradientStepResult> dynamicResults) = SixteenBitRun.Train(Training.Masters, ScalarType.Float16, Steps, lossFactor: LossFactor, eps: Eps);
        output.WriteLine($"first {fp32[0]:G4}; fp32 {SixteenBitRun.Final(fp32):G4}, None {SixteenBitRun.Final(none):G4}, Dynamic {SixteenBitRun.Final(dynamic):G4}");

        Assert.All(noneResults, r => Assert.Equal(0, r.GlobalNorm)); // every gradient flushed to 0
        Assert.True(SixteenBitRun.Final(none) > 0.9 * none[0], "without loss scaling the run should stall");
        Assert.True(SixteenBitRun.Final(fp32) < fp32[0] / 4, "fp32 should learn");
        Assert.False(nonFinite);
        Assert.InRange(SixteenBitRun.Final(dynamic), 0, 1.25 * SixteenBitRun.Final(fp32));
        Assert.All(dynamicResults, r => Assert.True(r.GlobalNorm > 0));
    }
}
