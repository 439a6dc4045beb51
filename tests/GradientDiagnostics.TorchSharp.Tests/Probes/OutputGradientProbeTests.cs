using Xunit.Abstractions;
using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Probes;

public sealed class OutputGradientProbeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(Activation.Tanh, Init.Xavier)]
    [InlineData(Activation.ReLU, Init.He)]
    public void Output_gradient_norm_equals_retain_grad_reference_within_1e_4(Activation activation, Init init)
    {
        manual_seed(11);
        using var model = Mlp.Create(depth: 8, 64, activation, init);
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var reference = new OutputGradientRecorder(model, monitor.LayerNames);
        using var scope = NewDisposeScope();
        var x = randn(32, 64);

        model.call(x).square().mean().backward();
        GradientStepResult result = monitor.Step();

        Assert.Equal(GradientStepKind.Full, result.Kind);
        foreach (LayerGradientStatistics layer in result.Layers)
        {
            double expected = reference.Norm(layer.Name);
            Assert.True(expected > 0, layer.Name);
            Assert.True(layer.OutputGradientNorm is double actual && Math.Abs(actual - expected) <= 1e-4 * expected, $"{layer.Name}: {layer.OutputGradientNorm} vs {expected}");
        }
    }

    [Fact]
    public void Gradient_accumulation_sums_the_squared_output_gradients_of_every_backward_before_step()
    {
        manual_seed(12);
        using var model = Mlp.Create(depth: 4, 16, Activation.Tanh, Init.Xavier);
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var reference = new OutputGradientRecorder(model, monitor.LayerNames);
        using var scope = NewDisposeScope();

        model.call(randn(8, 16)).square().mean().backward();
        model.call(randn(8, 16)).square().mean().backward();
        GradientStepResult result = monitor.Step();

        Assert.Equal(0, result.Step);
        foreach (LayerGradientStatistics layer in result.Layers)
        {
            double expected = reference.Norm(layer.Name); // both micro-batches' outputs
            Assert.Equal(expected, layer.OutputGradientNorm!.Value, 1e-4 * expected);
        }
    }

    [Fact]
    public void Outputs_kept_for_their_gradients_are_released_by_the_next_forward_or_the_step()
    {
        // The probe keeps each output (with libtorch's retain_grad) until its gradient is read: a micro-batch's outputs
        // are read and released at the next micro-batch's forward, and outputs that never saw backward at the step.
        manual_seed(13);
        using var model = Mlp.Create(depth: 4, 16, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var input = randn(8, 16);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        using (var scope = NewDisposeScope())
        {
            model.call(input).square().mean().backward();
        }

        long afterFirst = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var scope = NewDisposeScope())
        {
            model.call(input).square().mean().backward();
        }

        Assert.Equal(afterFirst, DisposeScopeManager.Statistics.ThreadTotalLiveCount); // one micro-batch kept, not two
        using (var scope = NewDisposeScope())
        {
            _ = model.call(input); // a forward without backward
        }

        monitor.Step();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(afterFirst > before); // the first micro-batch's outputs were kept until read
    }

    [Theory]
    [InlineData(Activation.ReLU, Init.He)]
    [InlineData(Activation.ReLU, Init.Xavier)]
    [InlineData(Activation.Sigmoid, Init.Xavier)]
    public void Depth_gain_of_30_layer_mlp_at_init_is_within_10_percent_of_mean_field_theory(Activation activation, Init init)
    {
        const int Width = 256;
        double expected = DepthTheory.Gain(activation, init);
        double logSum = 0, logWeightRatio = 0, logOutputRatio = 0;
        int seeds = 3;
        for (int seed = 0; seed < seeds; seed++)
        {
            manual_seed(100 + seed);
            using var model = Mlp.Create(depth: 30, Width, activation, init);
            using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
            using var scope = NewDisposeScope();
            var x = randn(64, Width);
            var y = randn(64, 1);
            nn.functional.mse_loss(model.call(x), y).backward();

            GradientStepResult result = monitor.Step();

            Assert.Equal(30, result.Layers.Count(l => l.OutputGradientNorm is not null));
            logSum += Math.Log(result.DepthGain!.Value);
            // First against last hidden layer (both width × width; the head is width → 1).
            logWeightRatio += Math.Log(result.Layers[0].GradientNorm / result.Layers[^2].GradientNorm);
            logOutputRatio += Math.Log(result.Layers[0].OutputGradientNorm!.Value / result.Layers[^2].OutputGradientNorm!.Value);
        }

        double measured = Math.Exp(logSum / seeds);
        // The figures docs/detectors.md and docs/concepts.md quote (geometric means over the seeds).
        output.WriteLine($"{activation} + {init}, 30 layers: DepthGain {measured:F4}, theory {expected:F4}, DepthGain^29 {Math.Pow(measured, 29):G3}; " +
            $"first/last hidden layer: weight-gradient norm {Math.Exp(logWeightRatio / seeds):G3}, output-gradient norm {Math.Exp(logOutputRatio / seeds):G3}");
        Assert.True(Math.Abs(measured - expected) <= 0.10 * expected, $"DepthGain {measured:F4}, theory {expected:F4}");
    }
}
