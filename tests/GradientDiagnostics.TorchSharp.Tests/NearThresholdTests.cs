using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>
/// The default thresholds, end to end through TorchSharp: a real network's gradients are scaled (all by one factor, as a
/// loss scale would, so the relative criteria see a healthy network) until the measured signal sits at 0.5× or 2× the
/// default threshold, with the reference computed by libtorch in float64. A monitor that measured the signal 2× off in
/// either direction (elements miscounted, a parameter left out, a norm squared twice) fails one of the two cases.
/// </summary>
public sealed class NearThresholdTests
{
    private const int Width = 32;
    private const int Depth = 4;

    [Theory]
    [InlineData(0.5, true)]
    [InlineData(2.0, false)]
    public void Vanishing_mean_magnitude_fires_at_half_the_default_threshold_and_stays_quiet_at_twice_it(double factor, bool fires)
    {
        double threshold = new GradientMonitorOptions().Vanishing.MeanMagnitudeThreshold;
        manual_seed(11);
        using var model = Mlp.Create(Depth, Width, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor();
        var layers = LayersOf(model, monitor);
        var expected = new List<(string Layer, double MeanMagnitude)>();

        // Default persistence (3 of 5): five steps, each scaled so that its smallest layer mean |g| is factor × threshold.
        List<GradientAlert> alerts = Run(model, monitor, steps: 5, () =>
        {
            double[] means = [.. layers.Select(l => MeanMagnitude(l.Parameters))];
            int smallest = Array.IndexOf(means, means.Min());
            ScaleAll(layers, factor * threshold / means[smallest]);
            expected.Add((layers[smallest].Name, MeanMagnitude(layers[smallest].Parameters)));
        });

        GradientAlert[] vanishing = [.. alerts.Where(a => a.Kind == GradientAlertKind.Vanishing)];
        if (!fires)
        {
            Assert.Empty(vanishing);
            return;
        }

        GradientAlert alert = Assert.Single(vanishing);
        Assert.Equal(GradientMetricNames.MeanAbsoluteGradient, alert.Metric);
        Assert.Equal(2, alert.Step); // the third step below the threshold: persistence 3 of 5
        Assert.Equal(expected[2].Layer, alert.Layer);
        Assert.Equal(expected[2].MeanMagnitude, alert.Value, expected[2].MeanMagnitude * 1e-5);
        Assert.Equal(factor * threshold, alert.Value, threshold * 1e-5);
    }

    [Theory]
    [InlineData(2.0, true)]
    [InlineData(0.5, false)]
    public void Exploding_global_norm_fires_at_twice_the_default_threshold_and_stays_quiet_at_half_it(double factor, bool fires)
    {
        double threshold = new GradientMonitorOptions().Exploding.GlobalNormThreshold;
        manual_seed(12);
        using var model = Mlp.Create(Depth, Width, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor();
        var layers = LayersOf(model, monitor);
        var expected = new List<double>();

        // Every step at the same global norm: the spike criteria see no jump, only the absolute threshold can fire.
        List<GradientAlert> alerts = Run(model, monitor, steps: 5, () =>
        {
            ScaleAll(layers, factor * threshold / GlobalNorm(layers));
            expected.Add(GlobalNorm(layers));
        });

        GradientAlert[] exploding = [.. alerts.Where(a => a.Kind == GradientAlertKind.Exploding)];
        if (!fires)
        {
            Assert.Empty(exploding);
            return;
        }

        GradientAlert alert = Assert.Single(exploding); // 1 of 1, then the cooldown (100 steps) keeps it quiet
        Assert.Equal(GradientMetricNames.GlobalGradientNorm, alert.Metric);
        Assert.Equal(0, alert.Step);
        Assert.Equal(GradientAlert.GlobalLayerName, alert.Layer);
        Assert.Equal(expected[0], alert.Value, expected[0] * 1e-5);
        Assert.Equal(factor * threshold, alert.Value, threshold * 1e-5);
    }

    /// <summary>Runs <paramref name="steps"/> forward/backward passes on fresh batches, lets <paramref name="scale"/> set the
    /// gradients, and hands them to the monitor (no optimizer step: the scaled gradients are not meant to train).</summary>
    private static List<GradientAlert> Run(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, int steps, Action scale)
    {
        var alerts = new List<GradientAlert>();
        monitor.AlertRaised += (_, alert) => alerts.Add(alert);
        var generator = new Generator(5);
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            var x = randn([16, Width], generator: generator);
            var loss = nn.functional.mse_loss(model.call(x), x[.., ..4].sum(1, keepdim: true).sin());
            loss.backward();
            scale();
            monitor.Step();
        }

        return alerts;
    }

    private static (string Name, Tensor[] Parameters)[] LayersOf(nn.Module model, GradientMonitor monitor)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        return [.. monitor.LayerNames.Select(name => (name, modules[name].parameters().Select(p => (Tensor)p).ToArray()))];
    }

    /// <summary>Mean |g| over every gradient element of the layer, by libtorch in float64.</summary>
    private static double MeanMagnitude(Tensor[] parameters)
    {
        using var scope = NewDisposeScope();
        double sum = 0;
        long count = 0;
        foreach (Tensor p in parameters)
        {
            sum += p.grad!.to_type(ScalarType.Float64).abs().sum().item<double>();
            count += p.numel();
        }

        return sum / count;
    }

    /// <summary>The L2 norm of every gradient, by libtorch in float64.</summary>
    private static double GlobalNorm((string Name, Tensor[] Parameters)[] layers)
    {
        using var scope = NewDisposeScope();
        return Math.Sqrt(layers.SelectMany(l => l.Parameters).Sum(p => p.grad!.to_type(ScalarType.Float64).square().sum().item<double>()));
    }

    private static void ScaleAll((string Name, Tensor[] Parameters)[] layers, double factor)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (Tensor p in layers.SelectMany(l => l.Parameters))
        {
            p.grad!.mul_(factor);
        }
    }
}
