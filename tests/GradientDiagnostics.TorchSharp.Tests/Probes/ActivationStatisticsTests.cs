using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Probes;

public sealed class ActivationStatisticsTests
{
    [Fact]
    public void Relu_layer_output_statistics_and_unit_activity_match_direct_computation()
    {
        manual_seed(50);
        var fc = nn.Linear(6, 5);
        using var model = nn.Sequential(("fc", fc), ("act", nn.ReLU()), ("head", nn.Linear(5, 1)));
        using (no_grad())
        {
            fc.bias!.copy_(tensor(new float[] { -100, 0, 0, 0, 100 })); // unit 0 dead, unit 4 always active
        }

        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var scope = NewDisposeScope();
        var x = randn(40, 6);
        var z = fc.forward(x).to_type(ScalarType.Float64);

        model.call(x).square().mean().backward();
        monitor.Step();

        ActivationStatistics a = monitor.LastObservations[0].Activations!;
        Assert.Equal(40 * 5, a.ElementCount);
        Assert.Equal(z.mean().item<double>(), a.Mean, 1e-6);
        double variance = (z - z.mean()).square().mean().item<double>(); // population variance
        Assert.Equal(variance, a.Variance, 1e-5 * variance);
        Assert.Equal(0, a.ZeroFraction);
        Assert.Null(a.SaturatedFraction); // ReLU does not saturate
        float[] active = a.UnitActiveFraction.ToArray();
        double[] expected = z.gt(0).to_type(ScalarType.Float64).mean([0]).data<double>().ToArray();
        Assert.Equal(0f, active[0]);
        Assert.Equal(1f, active[4]);
        for (int u = 0; u < 5; u++)
        {
            Assert.Equal(expected[u], active[u], 1e-6);
        }
    }

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Sigmoid)]
    public void Saturated_fraction_uses_sagemaker_thresholds_on_the_activation_input(Activation activation)
    {
        manual_seed(51);
        var fc = nn.Linear(8, 16);
        using var model = nn.Sequential(("fc", fc), ("act", activation == Activation.Tanh ? nn.Tanh() : nn.Sigmoid()), ("head", nn.Linear(16, 1)));
        using (no_grad())
        {
            fc.weight!.mul_(activation == Activation.Tanh ? 12 : 40); // push many pre-activations past the thresholds
        }

        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var scope = NewDisposeScope();
        var x = randn(64, 8);
        var z = fc.forward(x);
        double expected = (activation == Activation.Tanh ? z.abs().gt(9.4999) : z.lt(-23).logical_or(z.gt(16.99999))).to_type(ScalarType.Float64).mean().item<double>();

        model.call(x).square().mean().backward();
        monitor.Step();

        ActivationStatistics a = monitor.LastObservations[0].Activations!;
        Assert.True(expected > 0.05, $"setup: {expected}");
        Assert.Equal(expected, a.SaturatedFraction!.Value, 1e-9);
        Assert.True(a.UnitActiveFraction.IsEmpty); // not a ReLU-family activation
    }

    [Fact]
    public void Layer_output_filter_selects_which_layers_are_probed()
    {
        manual_seed(52);
        using var model = Mlp.Create(depth: 4, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.LayerOutputFilter = name => name != "fc1.linear"; });

        GradientStepResult result = Training.Run(model, monitor, steps: 1, 8)[0];

        Assert.Equal([true, false, true, true], result.Layers.Select(l => l.OutputGradientNorm is not null));
        Assert.Null(monitor.LastObservations[1].Activations);
    }
}
