using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>The PoorInitialization variance criterion compares hidden ReLU-family layers only; this is why, measured end
/// to end (docs/detectors.md quotes the printed figures).</summary>
public sealed class PoorInitializationEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public void Tanh_xavier_30_layer_mlp_shrinks_its_forward_variance_far_beyond_10x_yet_is_no_poor_init()
    {
        const int Width = 256;
        manual_seed(41);
        using var model = Mlp.Create(depth: 30, Width, Activation.Tanh, Init.Xavier);
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var scope = NewDisposeScope();
        var x = randn(64, Width);
        var loss = nn.functional.mse_loss(model.call(x), randn(64, 1));
        loss.backward();

        GradientStepResult result = monitor.Step(loss);

        // Hidden layers only (the head has one unit): the variance of each layer's output (its pre-activation).
        double[] variances = [.. monitor.LastObservations.Take(29).Select(o => o.Activations!.Variance)];
        double ratio = variances.Max() / variances.Min();
        output.WriteLine($"tanh + Xavier, 30 layers: pre-activation variance max/min {ratio:F1} ({variances[0]:G3} first, {variances[^1]:G3} last hidden layer), DepthGain {result.DepthGain:F3}");
        Assert.True(ratio > 10, $"variance ratio {ratio}");
        Assert.InRange(result.DepthGain!.Value, 0.85, 1.05);
        Assert.DoesNotContain(result.Alerts, a => a.Kind == GradientAlertKind.PoorInitialization);
    }
}
