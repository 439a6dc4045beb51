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
        output.WriteLine($"tanh + Xavier, 30 layers: pre-activation variance max/min {ratio:F1} ({variances[0]:G3} first, " +
            $"{variances[^1]:G3} last hidden layer), DepthGain {result.DepthGain:F3}");
        Assert.True(ratio > 10, $"variance ratio {ratio}");
        Assert.InRange(result.DepthGain!.Value, 0.85, 1.05);
        Assert.DoesNotContain(result.Alerts, a => a.Kind == GradientAlertKind.PoorInitialization);
    }

    [Fact]
    public void Shallow_models_at_torchsharp_default_init_raise_none_while_a_deep_relu_mlp_at_a_quarter_of_he_does()
    {
        // Default options: the probes measure the activations on the first step. The soak's model (ReLU, tanh, ReLU
        // hidden layers) and a plain 4-layer ReLU MLP, both at TorchSharp's default init (0.41x He), width 32.
        const int Width = 32;
        manual_seed(9);
        using var soak = nn.Sequential(
            ("fc0", nn.Linear(Width, Width)), ("act0", nn.ReLU()),
            ("fc1", nn.Linear(Width, Width)), ("act1", nn.Tanh()),
            ("fc2", nn.Linear(Width, Width)), ("act2", nn.ReLU()),
            ("head", nn.Linear(Width, 1)));
        using var relu = Mlp.Create(depth: 4, Width, Activation.ReLU, Init.TorchSharpDefault);
        using var deep = Mlp.Create(depth: 12, Width, Activation.ReLU, Init.He, initScale: 0.25);

        (GradientStepResult soakStep, double soakSpread) = FirstStep(soak);
        (GradientStepResult reluStep, double reluSpread) = FirstStep(relu);
        (GradientStepResult deepStep, double deepSpread) = FirstStep(deep);

        output.WriteLine($"hidden ReLU variance spread: soak model {soakSpread:G3}, 4-layer ReLU {reluSpread:G3}, 12-layer ReLU at 0.25x He {deepSpread:G3}");
        Assert.True(soakSpread > 10, $"the soak model's spread {soakSpread} is past the total threshold: the per-layer factor keeps it quiet");
        Assert.DoesNotContain(soakStep.Alerts, a => a.Kind == GradientAlertKind.PoorInitialization);
        Assert.DoesNotContain(reluStep.Alerts, a => a.Kind == GradientAlertKind.PoorInitialization);
        GradientAlert poor = Assert.Single(deepStep.Alerts, a => a.Kind == GradientAlertKind.PoorInitialization);
        Assert.Equal(GradientMetricNames.ActivationVarianceRatio, poor.Metric);
        Assert.Equal(deepSpread, poor.Value, deepSpread * 1e-6);
        Assert.Equal(GradientAlertFix.InitializeForGradientFlow, poor.Fixes[0].Id);
    }

    private static (GradientStepResult Step, double Spread) FirstStep(nn.Module<Tensor, Tensor> model)
    {
        using var monitor = model.AttachGradientMonitor();
        using var scope = NewDisposeScope();
        var x = randn(16, 32);
        var loss = nn.functional.mse_loss(model.call(x), x[.., ..4].sum(1, keepdim: true).sin());
        loss.backward();
        GradientStepResult result = monitor.Step(loss);
        // Hidden layers followed by ReLU (the head's scale is the loss's; tanh layers are not compared).
        double[] variances = [.. result.Layers.SkipLast(1).Where(l => monitor.Descriptors[l.Index].FollowingActivation == ActivationKind.ReLU)
            .Select(l => l.Activations!.Variance)];
        return (result, variances.Max() / variances.Min());
    }
}
