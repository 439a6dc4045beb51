using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

public sealed class ParameterObservationTests
{
    [Fact]
    public void Parameter_update_norm_is_the_previous_sgd_step_learning_rate_times_gradient_norm()
    {
        manual_seed(60);
        const double LearningRate = 0.05;
        using var model = Mlp.Create(depth: 4, 16, Activation.Tanh, Init.Xavier);
        using var monitor = model.AttachGradientMonitor(o => { o.FullStatisticsInterval = 3; o.CaptureParameterUpdates = true; });

        List<GradientStepResult> results = [];
        var updates = new List<double?[]>();
        using var optimizer = optim.SGD(model.parameters(), LearningRate);
        for (int step = 0; step < 7; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            model.call(randn(8, 16)).square().mean().backward();
            results.Add(monitor.Step());
            updates.Add([.. monitor.LastObservations.Select(o => o.ParameterUpdateNorm)]);
            optimizer.step();
        }

        Assert.All(updates[0], Assert.Null); // no earlier copy
        Assert.All(new[] { 1, 2, 4, 5 }, s => Assert.All(updates[s], Assert.Null)); // cheap steps
        foreach (int full in new[] { 3, 6 })
        {
            for (int i = 0; i < results[full].Layers.Count; i++)
            {
                double expected = LearningRate * results[full - 1].Layers[i].GradientNorm; // plain SGD: Δθ = −lr·g
                Assert.Equal(expected, updates[full][i]!.Value, 1e-4 * expected);
            }
        }
    }

    [Fact]
    public void Parameter_updates_are_not_measured_unless_enabled()
    {
        manual_seed(61);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => o.FullStatisticsInterval = 1);

        Training.Run(model, monitor, steps: 3, 8);

        Assert.All(monitor.LastObservations, o => Assert.Null(o.ParameterUpdateNorm));
        Assert.All(monitor.LastObservations, o => Assert.NotNull(o.Parameters));
    }

    [Fact]
    public void Enabling_the_update_ratio_detector_turns_on_the_update_measurement_it_needs()
    {
        manual_seed(62);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => (o.FullStatisticsInterval, o.UpdateRatio.Enabled) = (1, true));

        Training.Run(model, monitor, steps: 3, 8, learningRate: 0.01);

        Assert.All(monitor.LastObservations, o => Assert.True(o.ParameterUpdateNorm > 0));
    }
}
