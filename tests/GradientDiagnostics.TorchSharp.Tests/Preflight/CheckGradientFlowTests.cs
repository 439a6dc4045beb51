using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Preflight;

public sealed class CheckGradientFlowTests
{
    [Fact]
    public void Check_says_Vanishing_on_a_20_layer_tanh_mlp_initialized_too_small_with_a_finding_that_names_the_fix()
    {
        manual_seed(1);
        using var model = Mlp.Create(depth: 20, width: 64, Activation.Tanh, Init.Xavier, initScale: Math.Sqrt(0.3));
        using var x = randn(64, 64);
        using var y = randn(64, 1);

        GradientFlowCheckResult check = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), y));

        Assert.Equal(GradientFlowVerdict.Vanishing, check.Verdict);
        Assert.InRange(check.DepthGain!.Value, 0.3, 0.8);
        Assert.Equal(20, check.Layers.Count);
        Assert.Equal(20, check.ProbedLayerCount);
        Assert.Empty(check.UnprobedLayers);
        Assert.All(check.Layers, l => Assert.NotNull(l.OutputGradientNorm));
        GradientAlert vanishing = Assert.Single(check.Findings, f => f.Kind == GradientAlertKind.Vanishing && f.Metric == GradientMetricNames.DepthGainOverDepth);
        Assert.NotEmpty(vanishing.Fixes);
        Assert.Equal(vanishing.Causes.Count, vanishing.Fixes.Count);
        Assert.True(double.IsFinite(check.Loss));
    }

    [Fact]
    public void Check_says_Healthy_on_relu_he_and_Exploding_at_three_times_the_he_scale()
    {
        manual_seed(2);
        using var healthy = Mlp.Create(depth: 24, width: 64, Activation.ReLU, Init.He);
        using var exploding = Mlp.Create(depth: 24, width: 64, Activation.ReLU, Init.He, initScale: 3);
        using var x = randn(64, 64);
        using var y = randn(64, 1);

        Assert.Equal(GradientFlowVerdict.Healthy, healthy.CheckGradientFlow(() => nn.functional.mse_loss(healthy.call(x), y)).Verdict);
        GradientFlowCheckResult check = exploding.CheckGradientFlow(() => nn.functional.mse_loss(exploding.call(x), y));
        Assert.Equal(GradientFlowVerdict.Exploding, check.Verdict);
        Assert.Contains(check.Findings, f => f.Kind == GradientAlertKind.Exploding);
    }

    [Fact]
    public void Check_depth_gain_equals_the_monitors_at_step_0_and_the_thresholds_are_the_configured_ones()
    {
        manual_seed(3);
        using var model = Mlp.Create(depth: 12, width: 32, Activation.ReLU, Init.Xavier);
        using var x = randn(32, 32);
        using var y = randn(32, 1);

        GradientFlowCheckResult check = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), y));
        GradientFlowCheckResult strict = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), y), o => o.Vanishing.RelativeNormThreshold = 0.5);
        double? monitored;
        using (var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true))
        using (var scope = NewDisposeScope())
        {
            nn.functional.mse_loss(model.call(x), y).backward();
            monitored = monitor.Step().DepthGain;
        }

        Assert.Equal(monitored!.Value, check.DepthGain!.Value, 12);
        Assert.Equal(GradientFlowVerdict.Healthy, check.Verdict); // 0.76^11 ≈ 0.05 > 1e-4
        Assert.Equal(GradientFlowVerdict.Vanishing, strict.Verdict);
    }

    [Fact]
    public void Check_leaves_parameters_gradients_buffers_and_mode_as_found_and_adds_no_live_tensors()
    {
        manual_seed(4);
        using var model = new ResidualConvNet();
        using var x = randn(4, 3, 8, 8);
        using var target = randn(4, 4);
        // Some parameters hold a gradient from an earlier backward, the others none.
        using (var scope = NewDisposeScope())
        {
            nn.functional.mse_loss(model.call(x), target).backward();
        }

        var parameters = model.named_parameters().ToArray();
        foreach ((string name, var p) in parameters.Where(p => p.name.StartsWith("blocks.1", StringComparison.Ordinal)))
        {
            p.grad = null;
        }

        var before = parameters.Select(p => (p.name, Value: p.parameter.detach().clone(), Grad: p.parameter.grad?.detach().clone())).ToArray();
        var buffers = model.named_buffers().Select(b => (b.name, Value: b.buffer.clone())).ToArray();
        model.train();
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        GradientFlowCheckResult check = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), target));

        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.NotNull(check.DepthGain);
        Assert.True(model.training);
        var after = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach ((string name, Tensor value, Tensor? grad) in before)
        {
            Assert.True(Tensors.BitIdentical(value, after[name]), $"{name} changed");
            using Tensor? now = after[name].grad;
            Assert.Equal(grad is null, now is null);
            Assert.True(grad is null || Tensors.BitIdentical(grad, now!), $"{name}.grad changed");
        }

        var buffersAfter = model.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        Assert.All(buffers, b => Assert.True(Tensors.BitIdentical(b.Value, buffersAfter[b.name]), $"buffer {b.name} changed"));

        // No hook left: another forward and backward creates and keeps no more tensors than before the check.
        long beforePass = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var scope = NewDisposeScope())
        {
            nn.functional.mse_loss(model.call(x), target).backward();
        }

        Assert.Equal(beforePass, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        model.eval();
        model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), target));
        Assert.False(model.training);
    }

    [Fact]
    public void Check_runs_on_a_residual_cnn_with_batchnorm()
    {
        manual_seed(5);
        using var model = new ResidualConvNet();
        using var x = randn(4, 3, 8, 8);
        using var target = randn(4, 4);

        GradientFlowCheckResult check = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), target));

        Assert.Equal(15, check.Layers.Count); // stem, bn, 3 × (conv1, bn1, conv2, bn2), head
        Assert.Empty(check.UnprobedLayers);
        Assert.InRange(check.DepthGain!.Value, 0.2, 5);
        Assert.NotEqual(GradientFlowVerdict.Unknown, check.Verdict);
    }

    [Fact]
    public void Check_names_the_layers_it_could_not_probe()
    {
        manual_seed(6);
        using var model = new PartlyHiddenMlp(depth: 6, width: 16);
        using var x = randn(16, 16);
        using var y = randn(16, 1);

        GradientFlowCheckResult check = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), y));

        Assert.Equal(["fc2", "fc3"], check.UnprobedLayers);
        Assert.Equal(5, check.ProbedLayerCount);
        Assert.Null(check.Layers[2].OutputGradientNorm);
        Assert.NotNull(check.DepthGain);
    }

    [Fact]
    public void Check_rejects_a_non_scalar_loss_and_an_invalid_option_naming_it()
    {
        using var model = Mlp.Create(depth: 3, width: 4, Activation.ReLU, Init.He);
        using var x = randn(2, 4);

        Assert.Throws<ArgumentException>(() => model.CheckGradientFlow(() => model.call(x)));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.CheckGradientFlow(() => model.call(x).sum(), o => o.Vanishing.RelativeNormThreshold = 2));
        Assert.Contains("Vanishing.RelativeNormThreshold", error.Message, StringComparison.Ordinal);
    }
}
