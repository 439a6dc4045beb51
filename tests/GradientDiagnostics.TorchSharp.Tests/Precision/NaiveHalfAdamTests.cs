using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Precision;

/// <summary>Issue 21 "Naive float16 + Adam is diagnosed": a <c>.half()</c> model trained with TorchSharp's Adam has ±Inf
/// weights after its first step (Adam's state is float16, where eps = 1e-8 is 0); the NonFinite alert names the weights,
/// the optimizer step and <c>EnableMixedPrecision</c>, and no forward module.</summary>
public sealed class NaiveHalfAdamTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_alert_names_the_first_layers_non_finite_weights_and_the_optimizer_step_and_no_forward_origin(bool traceOrigin)
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(ScalarType.Float16);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(ScalarType.Float16);
        using var monitor = model.AttachGradientMonitor(o => o.NonFinite.TraceOrigin = traceOrigin);
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        var results = new List<GradientStepResult>();
        for (int step = 0; step < 3; step++)
        {
            Tensor loss = SixteenBitModels.Backward(model, input, target);
            GradientStepResult result = monitor.Step(loss);
            results.Add(result);
            if (!result.SkipStep)
            {
                optimizer.step();
            }
        }

        // The premise, counted independently: the first layer's weights are non-finite after the first step.
        Tensor firstWeights = model.named_parameters().Single(p => p.name == "0.weight").parameter;
        Assert.False(isfinite(firstWeights).all().item<bool>());
        Assert.DoesNotContain(results[0].Alerts, a => a.Kind == GradientAlertKind.NonFinite);
        Assert.True(results[1].SkipStep);

        GradientAlert alert = Assert.Single(results[1].Alerts, a => a.Kind == GradientAlertKind.NonFinite);
        output.WriteLine(alert.Message);
        Assert.Null(alert.Origin);
        Assert.DoesNotContain("first produced by", alert.Message, StringComparison.Ordinal);
        Assert.StartsWith("The weights of '0'", alert.Message, StringComparison.Ordinal);
        Assert.Contains("optimizer step applied after step 0", alert.Message, StringComparison.Ordinal);
        Assert.Contains(alert.Causes, c => c.Id == GradientAlertCause.SixteenBitOptimizerState && c.Text.Contains("Adam's eps = 1e-8 is 0", StringComparison.Ordinal));
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.MasterWeights && f.Text.Contains("EnableMixedPrecision", StringComparison.Ordinal));
        Assert.Equal(NumericFormat.Float16, results[1].Layers[0].ParameterFormat);
        Assert.False(results[1].Layers[0].Parameters!.Value.IsFinite);
    }

    [Fact]
    public void Weights_are_not_read_on_a_healthy_cheap_step()
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(ScalarType.Float16);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(ScalarType.Float16);
        using var monitor = model.AttachGradientMonitor(o => o.FullStatisticsInterval = 5);

        monitor.Step(SixteenBitModels.Backward(model, input, target));
        GradientStepResult cheap = monitor.Step(SixteenBitModels.Backward(model, input, target));

        Assert.Equal(GradientStepKind.Cheap, cheap.Kind);
        Assert.All(cheap.Layers, l => Assert.Null(l.Parameters));
    }
}
