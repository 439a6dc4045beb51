using System.Text.RegularExpressions;
using GradientDiagnostics.TorchSharp.Tests.Models;
using Microsoft.Extensions.Logging.Testing;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Detection;

/// <summary>The alerts a person reads (issue 22): one per layer, kind and step; numbers with few digits; the measured
/// cause and the library's own remedy first. Real networks, real runs.</summary>
public sealed partial class AlertMessageTests(ITestOutputHelper output)
{
    private const int Width = 32;

    /// <summary>A number as written in text: not part of a name (fc12, layers.3), with an optional fraction and exponent.</summary>
    [GeneratedRegex(@"(?<![\w.'])(\d+)(?:\.(\d+))?(?:[eE][+-]?\d+)?")]
    private static partial Regex NumberPattern();

    [Fact]
    public void Tanh_mlp_of_20_layers_at_0_3_times_the_xavier_variance_names_InitializeForGradientFlow_first()
    {
        manual_seed(42);
        using var model = Mlp.Create(depth: 20, 64, Activation.Tanh, Init.Xavier, initScale: Math.Sqrt(0.3));
        using var x = randn(64, 64);
        using var y = randn(64, 1);

        // The preflight judges one pass, with every layer probed: the depth-gain criterion fires.
        GradientFlowCheckResult check = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), y));
        GradientAlert depth = Assert.Single(check.Findings, a => a.Kind == GradientAlertKind.Vanishing);
        Assert.Contains(depth.Criteria, c => c.Metric == GradientMetricNames.DepthGainOverDepth);

        // Training with the monitor: whichever criteria cross, the alert's first fix is the same.
        using var monitor = model.AttachGradientMonitor(o => (o.FullStatisticsInterval, o.CaptureLayerOutputs) = (1, true));
        GradientAlert[] trained = [.. Training.Run(model, monitor, steps: 5, 64, learningRate: 0.01).SelectMany(r => r.Alerts).Where(a => a.Kind == GradientAlertKind.Vanishing)];
        Assert.NotEmpty(trained);

        foreach (GradientAlert alert in trained.Prepend(depth))
        {
            output.WriteLine(alert.ToString());
            Assert.Equal(GradientAlertFix.InitializeForGradientFlow, alert.Fixes[0].Id);
            Assert.Contains("InitializeForGradientFlow", alert.Fixes[0].Text, StringComparison.Ordinal);
            Assert.Equal(GradientAlertCause.InitScale, alert.Causes[0].Id);
            Assert.Contains("× the Xavier expectation", alert.Causes[0].Text, StringComparison.Ordinal);
            Assert.Contains(alert.Causes, c => c.Id == GradientAlertCause.SaturatingActivation && c.Text.Contains("Tanh", StringComparison.Ordinal));
            Assert.StartsWith($"Gradients vanish in '{alert.Layer}': ", alert.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_detector_restyled_here_writes_no_number_with_more_than_4_significant_digits()
    {
        var logger = new FakeLogger();
        var alerts = new List<GradientAlert>();
        foreach (Scenario scenario in Scenarios())
        {
            manual_seed(7);
            using var model = scenario.Build();
            using var monitor = model.AttachGradientMonitor(o =>
            {
                (o.FullStatisticsInterval, o.CaptureLayerOutputs, o.CaptureParameterUpdates) = (1, true, true);
                (o.DeadUnits.Window, o.PersistentClipping.Persistence, o.PersistentClipping.PersistenceWindow) = (5, 3, 4);
                scenario.Configure?.Invoke(o);
            }, logger);
            alerts.AddRange(Train(model, monitor, scenario).SelectMany(r => r.Alerts));
        }

        foreach (GradientAlert alert in alerts)
        {
            output.WriteLine(alert.ToString());
        }

        GradientAlertKind[] owned = [GradientAlertKind.Vanishing, GradientAlertKind.Exploding, GradientAlertKind.Saturation, GradientAlertKind.DeadUnits,
            GradientAlertKind.PoorInitialization, GradientAlertKind.UpdateRatio, GradientAlertKind.PersistentClipping];
        Assert.All(owned, kind => Assert.Contains(alerts, a => a.Kind == kind));
        string[] metrics = [.. alerts.SelectMany(a => a.Criteria).Select(c => c.Metric).Distinct()];
        Assert.All(new[]
        {
            GradientMetricNames.MeanAbsoluteGradient, GradientMetricNames.NormRatioToLaterLayers, GradientMetricNames.DepthGainOverDepth,
            GradientMetricNames.GlobalGradientNorm, GradientMetricNames.GlobalGradientNormZScore, GradientMetricNames.SaturatedFraction,
            GradientMetricNames.DeadUnitFraction, GradientMetricNames.WeightStdRatioToExpected, GradientMetricNames.ActivationVarianceRatio,
            GradientMetricNames.UpdateRatio, GradientMetricNames.ClippingActiveFraction,
        }, m => Assert.Contains(m, metrics));

        // The alerts' own text and their log lines (EventIds 1000 + kind); the structured fields keep full precision.
        FakeLogRecord[] logged = [.. logger.Collector.GetSnapshot().Where(r => r.Id.Id is >= 1000 and < 1100)];
        Assert.Equal(alerts.Count, logged.Length);
        string[] texts = [.. alerts.Select(a => a.Message), .. logged.Select(r => r.Message)];
        Assert.All(texts, text => Assert.All(NumberPattern().Matches(text), m => Assert.True(SignificantDigits(m) <= 4, $"'{m.Value}' in: {text}")));
        Assert.All(alerts.GroupBy(a => (a.Kind, a.Layer, a.Step)), g => Assert.Single(g));
    }

    /// <summary>Digits from the first non-zero one to the last written one; an integer's trailing zeros do not count.</summary>
    private static int SignificantDigits(Match number)
    {
        string digits = (number.Groups[1].Value + number.Groups[2].Value).TrimStart('0');
        return (number.Groups[2].Success ? digits : digits.TrimEnd('0')).Length;
    }

    private static IEnumerable<Scenario> Scenarios() =>
    [
        // Vanishing on all three criteria, at TorchSharp's default init.
        new(() => Mlp.Create(20, Width, Activation.Sigmoid, Init.TorchSharpDefault), 6),
        // Saturation (pre-activations beyond ±9.5) and a weight std 30x Xavier (PoorInitialization).
        new(() => Mlp.Create(4, Width, Activation.Tanh, Init.Xavier, initScale: 30), 4),
        // Exploding (global norm, depth growth), activation variance spread and weight std 4x He (PoorInitialization).
        new(() => Mlp.Create(12, Width, Activation.ReLU, Init.He, initScale: 4), 2, LearningRate: 0),
        // A spike after a warm history (Exploding z-score); clipping below the typical norm (PersistentClipping).
        new(() => Mlp.Create(4, Width, Activation.ReLU, Init.He), 40, SpikeAt: 36, Configure: o => o.Clipping = GradientClipping.ByGlobalNorm(1e-6)),
        // Dead units: a bias that keeps the first layer's pre-activations negative.
        new(() => WithBias(Mlp.Create(4, Width, Activation.ReLU, Init.He), -50), 6),
        // Updates far larger than the weights (UpdateRatio).
        new(() => Mlp.Create(3, Width, Activation.ReLU, Init.He), 3, LearningRate: 1e4, Configure: o => (o.UpdateRatio.Enabled, o.UpdateRatio.Persistence, o.UpdateRatio.PersistenceWindow) = (true, 1, 1)),
    ];

    private static nn.Module<Tensor, Tensor> WithBias(nn.Module<Tensor, Tensor> model, double bias)
    {
        using var _ = no_grad();
        model.named_parameters().First(p => p.name.EndsWith("bias", StringComparison.Ordinal)).parameter.fill_(bias);
        return model;
    }

    private static List<GradientStepResult> Train(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, Scenario scenario)
    {
        var results = new List<GradientStepResult>();
        using var optimizer = optim.SGD(model.parameters(), scenario.LearningRate);
        var generator = new Generator(3);
        for (int step = 0; step < scenario.Steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var x = randn([16, Width], generator: generator) * (step == scenario.SpikeAt ? 1000 : 1);
            var loss = nn.functional.mse_loss(model.call(x), x[.., ..1].sin());
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            results.Add(result);
            if (!result.SkipStep)
            {
                optimizer.step();
            }
        }

        return results;
    }

    private sealed record Scenario(Func<nn.Module<Tensor, Tensor>> Build, int Steps, double LearningRate = 1e-3, int SpikeAt = -1, Action<GradientMonitorOptions>? Configure = null);
}
