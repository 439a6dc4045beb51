using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>
/// Criteria that need many steps, with the default options end to end: the depth criterion, whose input (the probed
/// output gradients) exists only on full-statistics steps (one in 20) and must hold on 3 of 5 of them; and the spike
/// criterion, which judges only after its z-score warm-up and the early-max window.
/// </summary>
public sealed class DefaultCadenceTests(ITestOutputHelper output)
{
    private const int Width = 64;

    [Fact]
    public void Depth_decay_fires_on_the_third_full_step_of_a_30_layer_sigmoid_mlp_with_default_persistence_and_cadence()
    {
        var defaults = new GradientMonitorOptions();
        int fullEvery = defaults.FullStatisticsInterval, persistence = defaults.Vanishing.Persistence;
        manual_seed(21);
        using var model = Mlp.Create(depth: 30, Width, Activation.Sigmoid, Init.Xavier);
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);

        List<GradientStepResult> results = Training.Run(model, monitor, steps: ((persistence - 1) * fullEvery) + 1, Width, learningRate: 1e-2);

        long[] measured = [.. results.Where(r => r.DepthGain is not null).Select(r => r.Step)];
        Assert.Equal(Enumerable.Range(0, persistence).Select(k => (long)k * fullEvery), measured);
        GradientAlert depth = Assert.Single(results.SelectMany(r => r.Alerts), a => a.Metric == GradientMetricNames.DepthGainOverDepth);
        Assert.Equal(GradientAlertKind.Vanishing, depth.Kind);
        Assert.Equal((persistence - 1) * fullEvery, depth.Step);
        Assert.True(depth.Value < defaults.Vanishing.RelativeNormThreshold, $"gain^depth {depth.Value}");
        output.WriteLine($"depth gain {results[^1].DepthGain:F3}, gain^depth {depth.Value:G3} at step {depth.Step}");
    }

    [Fact]
    public void Depth_decay_stays_quiet_on_a_30_layer_relu_he_mlp_over_the_same_steps()
    {
        var defaults = new GradientMonitorOptions();
        manual_seed(22);
        using var model = Mlp.Create(depth: 30, Width, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);

        List<GradientStepResult> results = Training.Run(model, monitor, steps: ((defaults.Vanishing.Persistence - 1) * defaults.FullStatisticsInterval) + 1, Width, learningRate: 1e-3);

        Assert.Equal(defaults.Vanishing.Persistence, results.Count(r => r.DepthGain is not null));
        Assert.DoesNotContain(results.SelectMany(r => r.Alerts), a => a.Metric == GradientMetricNames.DepthGainOverDepth);
    }

    [Fact]
    public void Spike_detection_raises_no_alert_over_200_healthy_steps_then_fires_on_the_step_of_an_outlier_batch()
    {
        const int Healthy = 200, Width = 32, Batch = 16;
        var defaults = new GradientMonitorOptions();
        Assert.True(Healthy >= Math.Max(defaults.Exploding.SpikeWarmupSteps, defaults.Exploding.EarlySteps) + 50);
        manual_seed(23);
        using var model = Mlp.Create(depth: 5, Width, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor();
        using var optimizer = optim.SGD(model.parameters(), 1e-2);
        var generator = new Generator(23);
        var results = new List<GradientStepResult>();
        for (int step = 0; step <= Healthy; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var x = randn([Batch, Width], generator: generator);
            var y = x[.., ..4].sum(1, keepdim: true).sin();
            // The last step feeds one outlier batch: inputs 30× their usual scale.
            var loss = nn.functional.mse_loss(model.call(step == Healthy ? x * 30 : x), y);
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            results.Add(result);
            if (!result.SkipStep)
            {
                optimizer.step();
            }
        }

        double[] norms = [.. results.Take(Healthy).Select(r => r.GlobalNorm)];
        output.WriteLine($"healthy global norms: min {norms.Min():G3}, median {norms.Order().ElementAt(Healthy / 2):G3}, max {norms.Max():G3}; outlier step {results[^1].GlobalNorm:G3}");
        Assert.Empty(results.Take(Healthy).SelectMany(r => r.Alerts));
        GradientAlert spike = Assert.Single(results[^1].Alerts);
        Assert.Equal(GradientAlertKind.Exploding, spike.Kind);
        Assert.Contains(spike.Metric, new[] { GradientMetricNames.GlobalGradientNormZScore, GradientMetricNames.GlobalGradientNormRatioToEarlyMax });
        Assert.True(results[^1].GlobalNorm > 10 * norms.Max());
    }
}
