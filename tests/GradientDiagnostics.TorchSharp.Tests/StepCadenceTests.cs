using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

public sealed class StepCadenceTests
{
    [Fact]
    public void Full_statistics_are_taken_every_interval_steps_and_cheap_steps_check_norms_only()
    {
        manual_seed(40);
        using var model = Mlp.Create(depth: 4, 16, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 3; });

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 7, 16);

        Assert.Equal([0L, 3, 6], results.Where(r => r.Kind == GradientStepKind.Full).Select(r => r.Step));
        Assert.All(results, r => Assert.True(r.GlobalNorm > 0 && r.Loss is double));
        Assert.All(results.Where(r => r.Kind == GradientStepKind.Full), r => Assert.NotNull(r.DepthGain));
        Assert.All(results.Where(r => r.Kind == GradientStepKind.Cheap), r =>
        {
            Assert.Null(r.DepthGain);
            Assert.All(r.Layers, l => Assert.Null(l.OutputGradientNorm));
        });
    }

    [Fact]
    public void Cheap_steps_leave_activations_and_parameters_unmeasured()
    {
        manual_seed(41);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 2; });

        Training.Run(model, monitor, steps: 1, 8);
        Assert.All(monitor.LastObservations, o => Assert.True(o.Activations is not null && o.Parameters is not null));
        Training.Run(model, monitor, steps: 1, 8);
        Assert.All(monitor.LastObservations, o => Assert.True(o.Activations is null && o.Parameters is null && o.OutputGradientNorm is null));
    }

    [Fact]
    public void Probes_are_on_by_default_and_without_them_parameters_are_still_measured_on_full_steps()
    {
        manual_seed(42);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using (var defaults = model.AttachGradientMonitor())
        {
            Assert.Equal(defaults.LayerNames, defaults.ProbedLayers);
        }

        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = false);

        using var scope = NewDisposeScope();
        model.call(randn(4, 8)).square().mean().backward();
        GradientStepResult result = monitor.Step();

        Assert.Null(monitor.Probes);
        Assert.Null(result.DepthGain);
        Assert.All(result.Layers, l => Assert.Null(l.OutputGradientNorm));
        double expected = Math.Sqrt(model.parameters().Sum(p => { using var s = p.detach().to_type(ScalarType.Float64).square().sum(); return s.item<double>(); }));
        double measured = Math.Sqrt(monitor.LastObservations.Sum(o => o.Parameters!.Value.SumOfSquares));
        Assert.Equal(expected, measured, 1e-5 * expected); // the CPU span path sums in float blocks: within 1e-5 relative
    }

    [Fact]
    public void Forward_passes_without_autograd_are_not_captured()
    {
        manual_seed(43);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var scope = NewDisposeScope();
        var train = randn(4, 8);
        model.call(train).square().mean().backward();
        using (no_grad())
        {
            model.call(randn(100, 8) * 50); // an evaluation pass between backward and Step
        }

        monitor.Step();

        Assert.Equal(4 * 8, monitor.LastObservations[0].Activations!.ElementCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public void Full_statistics_interval_out_of_range_is_rejected_by_name(int interval)
    {
        using var model = Mlp.Create(depth: 2, 4, Activation.ReLU, Init.He);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.AttachGradientMonitor(o => o.FullStatisticsInterval = interval));
        Assert.Equal(nameof(GradientMonitorOptions.FullStatisticsInterval), error.ParamName);
    }
}
