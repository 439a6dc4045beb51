using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

public sealed class GradientMonitorTests
{
    private const int Width = 128;

    [Fact]
    public void Vanishing_fires_on_early_layers_of_30_layer_sigmoid_mlp()
    {
        manual_seed(1);
        using var model = Mlp.Create(depth: 30, Width, Activation.Sigmoid, Init.TorchSharpDefault);
        using var monitor = model.AttachGradientMonitor();
        var raised = new List<GradientAlert>();
        monitor.AlertRaised += (_, alert) => raised.Add(alert);

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 5, Width);

        GradientAlert[] vanishing = [.. raised.Where(a => a.Kind == GradientAlertKind.Vanishing)];
        Assert.NotEmpty(vanishing);
        int depthOfWorst = monitor.LayerNames.ToList().IndexOf(vanishing[0].Layer);
        Assert.InRange(depthOfWorst, 0, 9); // an early layer: the signal dies on its way back
        Assert.Equal(vanishing, results.SelectMany(r => r.Alerts).Where(a => a.Kind == GradientAlertKind.Vanishing));
        Assert.True(results[^1].Layers[0].GradientNorm < 1e-4 * results[^1].Layers[^1].GradientNorm);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Relu_he_mlp_of_30_layers_raises_no_vanishing_or_exploding_in_20_steps(bool residual)
    {
        manual_seed(2);
        using var model = Mlp.Create(depth: 30, Width, Activation.ReLU, Init.He, initScale: residual ? 0.05 : 1.0, residual: residual);
        using var monitor = model.AttachGradientMonitor();

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 20, Width, learningRate: 1e-3);

        Assert.Empty(results.SelectMany(r => r.Alerts));
        Assert.All(results, r => Assert.False(r.SkipStep));
        Assert.All(results, r => Assert.True(double.IsFinite(r.GlobalNorm) && r.GlobalNorm > 0));
    }

    [Fact]
    public void Exploding_fires_on_30_layer_relu_mlp_at_three_times_he_scale()
    {
        manual_seed(3);
        using var model = Mlp.Create(depth: 30, Width, Activation.ReLU, Init.He, initScale: 3.0);
        using var monitor = model.AttachGradientMonitor();

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 1, Width, learningRate: 0);

        GradientAlert exploding = Assert.Single(results[0].Alerts, a => a.Kind == GradientAlertKind.Exploding && a.Metric == GradientMetricNames.GlobalGradientNorm);
        Assert.True(exploding.Value > 1e4);
        Assert.DoesNotContain(results[0].Alerts, a => a.Kind == GradientAlertKind.Vanishing);
    }

    [Fact]
    public void Nan_in_one_layer_gradient_raises_non_finite_naming_that_layer_and_skips_the_step()
    {
        manual_seed(4);
        using var model = Mlp.Create(depth: 6, Width, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor();
        using var x = randn(8, Width);
        using var loss = model.call(x).square().mean();
        loss.backward();
        var target = (global::TorchSharp.Modules.Linear)model.named_modules().Single(m => m.name == "fc2.linear").module;
        using (var grad = target.weight!.grad!)
        using (var flat = grad.view(-1))
        using (var first = flat[3])
        {
            first.fill_(float.NaN);
        }

        GradientStepResult result = monitor.Step(loss);

        Assert.True(result.SkipStep);
        Assert.True(double.IsNaN(result.GlobalNorm));
        GradientAlert alert = Assert.Single(result.Alerts);
        Assert.Equal(GradientAlertKind.NonFinite, alert.Kind);
        Assert.Equal(GradientAlertSeverity.Critical, alert.Severity);
        Assert.Equal("fc2.linear", alert.Layer);
        Assert.Equal(1, alert.Value);
        Assert.Equal(1, result.Layers[2].Gradient.NaNCount);
    }

    [Fact]
    public void Layers_are_named_by_module_path_in_forward_order()
    {
        using var model = Mlp.Create(depth: 4, 16, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor();

        Assert.Equal(["fc0.linear", "fc1.linear", "fc2.linear", "head"], monitor.LayerNames);
    }
}
