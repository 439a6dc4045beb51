using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Detection;

/// <summary>
/// The spike criterion on a real regression (a 4-layer ReLU MLP, width 32, batch 16, SGD at lr 0.01, MSE against sin of
/// the sum of four inputs, as in the soak): after 300 healthy steps, one event. A batch whose loss explains its gradient
/// norm (<see cref="ExplodingOptions.IgnoreOutlierBatches"/>) is not reported; a learning rate that makes training
/// diverge, and a gradient that jumps while the loss stays put, are. Each event is also run with the option off, which
/// shows the z-score criterion crossed on the same step.
/// </summary>
public sealed class OutlierBatchSpikeTests(ITestOutputHelper output)
{
    private const int Width = 32, Batch = 16, Healthy = 300;

    [Fact]
    public void An_outlier_batch_whose_loss_rose_more_than_its_gradient_norm_raises_no_spike()
    {
        // Every target of one batch is off by 2: a batch of wrong labels.
        Event outlier = new(TargetShift: 2);

        Run quiet = Train(outlier, ignoreOutlierBatches: true);
        Run reported = Train(outlier, ignoreOutlierBatches: false);

        Print("outlier batch", quiet);
        Assert.InRange(quiet.NormOverMedian, 5, 1e3);
        Assert.True(quiet.LossOverMedian >= quiet.NormOverMedian, $"loss {quiet.LossOverMedian}× vs norm {quiet.NormOverMedian}× their medians");
        Assert.Empty(quiet.Alerts);
        GradientAlert spike = Assert.Single(reported.Alerts);
        Assert.Equal((Healthy, GradientMetricNames.GlobalGradientNormZScore), (spike.Step, spike.Metric));
    }

    [Fact]
    public void A_learning_rate_that_makes_training_diverge_still_raises_a_spike()
    {
        // From step 300 on, the learning rate is 40x: the norm and the loss grow from step to step.
        Event divergence = new(LearningRate: 0.4);

        Run defaults = Train(divergence, ignoreOutlierBatches: true);
        Run reported = Train(divergence, ignoreOutlierBatches: false);

        Print("divergence", defaults);
        Assert.DoesNotContain(defaults.Alerts, a => a.Step < Healthy);
        GradientAlert spike = defaults.Alerts.First(a => a.Kind == GradientAlertKind.Exploding);
        GradientAlert first = reported.Alerts.First(a => a.Kind == GradientAlertKind.Exploding);
        output.WriteLine($"first spike alert at step {spike.Step} ({spike.Metric}); with the option off at step {first.Step}");
        Assert.InRange(spike.Step, first.Step, first.Step + 1);
    }

    [Fact]
    public void A_gradient_spike_with_a_steady_loss_is_reported_on_its_step()
    {
        // The loss is the healthy one; only the gradients are 20x, as a faulty backward would make them.
        Event jump = new(GradientScale: 20);

        Run defaults = Train(jump, ignoreOutlierBatches: true);

        Print("gradient jump", defaults);
        Assert.True(defaults.LossOverMedian < defaults.NormOverMedian);
        GradientAlert spike = Assert.Single(defaults.Alerts);
        Assert.Equal((Healthy, GradientAlertKind.Exploding, GradientMetricNames.GlobalGradientNormZScore), (spike.Step, spike.Kind, spike.Metric));
    }

    private void Print(string name, Run run) => output.WriteLine(
        $"{name}: step {Healthy} norm {run.NormOverMedian:G3}x and loss {run.LossOverMedian:G3}x their medians of the last 100 steps; " +
        $"alerts at {string.Join(", ", run.Alerts.Select(a => $"{a.Step} {a.Metric}"))}");

    /// <summary>Healthy steps, then the event on step <see cref="Healthy"/> (the learning rate for every step from there).</summary>
    private static Run Train(Event change, bool ignoreOutlierBatches, int extraSteps = 10)
    {
        manual_seed(9);
        using var model = Mlp.Create(depth: 4, Width, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => o.Exploding.IgnoreOutlierBatches = ignoreOutlierBatches);
        using var optimizer = optim.SGD(model.parameters(), 0.01);
        var generator = new Generator(9);
        var (norms, losses, alerts) = (new List<double>(), new List<double>(), new List<GradientAlert>());
        for (int step = 0; step <= Healthy + extraSteps; step++)
        {
            using var scope = NewDisposeScope();
            bool at = step == Healthy;
            if (at && change.LearningRate is double rate)
            {
                optimizer.ParamGroups.First().LearningRate = rate;
            }

            optimizer.zero_grad();
            var x = randn([Batch, Width], generator: generator);
            var y = x[.., ..4].sum(1, keepdim: true).sin() + (at ? change.TargetShift : 0);
            var loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            if (at && change.GradientScale != 1)
            {
                using var noGrad = no_grad();
                foreach (var p in model.parameters())
                {
                    using var grad = p.grad!;
                    grad.mul_(change.GradientScale);
                }
            }

            GradientStepResult result = monitor.Step(loss);
            alerts.AddRange(result.Alerts);
            (norms, losses) = ([.. norms, result.GlobalNorm], [.. losses, loss.item<float>()]);
            if (!result.SkipStep)
            {
                optimizer.step();
            }

            if (!double.IsFinite(result.GlobalNorm))
            {
                break;
            }
        }

        return new Run(alerts, norms[Healthy] / Median(norms.Skip(Healthy - 100).Take(100)), losses[Healthy] / Median(losses.Skip(Healthy - 100).Take(100)));
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record Event(double TargetShift = 0, double? LearningRate = null, double GradientScale = 1);

    private sealed record Run(List<GradientAlert> Alerts, double NormOverMedian, double LossOverMedian);
}
