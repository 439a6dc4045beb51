using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Precision;

/// <summary>Issue 21 "bfloat16" (naive bfloat16 at a small learning rate stalls, and the Precision alert says its updates
/// are lost) and "Loss scaling matters" (a float16 model whose gradients underflow without scaling gets a Precision alert
/// naming the layer). Plain 16-bit models with SGD, no master weights.</summary>
public sealed class PrecisionAlertTests(ITestOutputHelper output)
{
    [Fact]
    public void Naive_bfloat16_at_a_small_learning_rate_stalls_and_the_alert_says_its_updates_are_lost()
    {
        const int Steps = 6;
        const double LearningRate = 1e-3;
        using var scope = NewDisposeScope();
        (double fp32First, double fp32Last, _) = Train(ScalarType.Float32, LearningRate, Steps);
        (double bf16First, double bf16Last, List<GradientAlert> alerts) = Train(ScalarType.BFloat16, LearningRate, Steps);

        output.WriteLine($"{Steps} SGD steps at lr {LearningRate}: float32 loss {fp32First:G6} → {fp32Last:G6}, bfloat16 {bf16First:G6} → {bf16Last:G6}");
        output.WriteLine(string.Join(Environment.NewLine, alerts.Select(a => a.Message)));
        // float32 learns; bfloat16 rounds its updates away and learns at most a tenth as much.
        Assert.True(fp32Last < fp32First, $"float32 {fp32First} → {fp32Last}");
        Assert.True(bf16First - bf16Last <= 0.1 * (fp32First - fp32Last), $"bfloat16 {bf16First} → {bf16Last}, float32 {fp32First} → {fp32Last}");
        GradientAlert alert = Assert.Single(alerts, a => a.Kind == GradientAlertKind.Precision);
        Assert.Equal(GradientMetricNames.LostUpdateFraction, alert.Metric);
        Assert.Contains(alert.Layer, new[] { "0", "2", "4" });
        Assert.True(alert.Value >= 0.5, $"lost-update fraction {alert.Value}");
        Assert.StartsWith($"Layer '{alert.Layer}' (bfloat16)", alert.Message, StringComparison.Ordinal);
        Assert.Equal([GradientAlertCause.LostUpdates], alert.Causes.Select(c => c.Id));
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.MasterWeights && f.Text.Contains("EnableMixedPrecision", StringComparison.Ordinal));
    }

    [Fact]
    public void Float16_gradients_that_underflow_without_a_loss_scale_raise_an_alert_naming_the_layer()
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(ScalarType.Float16);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(ScalarType.Float16);
        using var monitor = model.AttachGradientMonitor();
        using var optimizer = optim.SGD(model.parameters(), 0.01);
        var alerts = new List<GradientAlert>();
        monitor.AlertRaised += (_, a) => alerts.Add(a);
        for (int step = 0; step < 3; step++)
        {
            // A loss 1e-3 of the MSE: its gradients sit below float16's normal range, as small losses' do.
            GradientStepResult result = monitor.Step(SixteenBitModels.Backward(model, input, target, lossFactor: 1e-3));
            if (!result.SkipStep)
            {
                optimizer.step();
            }
        }

        output.WriteLine(string.Join(Environment.NewLine, alerts.Select(a => a.Message)));
        GradientAlert alert = Assert.Single(alerts, a => a.Kind == GradientAlertKind.Precision);
        Assert.Equal((1L, GradientMetricNames.UnderflowFraction), (alert.Step, alert.Metric));
        Assert.Contains(alert.Layer, new[] { "0", "2", "4" });
        Assert.True(alert.Value > 0.5);
        Assert.StartsWith($"Layer '{alert.Layer}' (float16)", alert.Message, StringComparison.Ordinal);
        Assert.Equal([GradientAlertCause.Underflow], alert.Causes.Select(c => c.Id));
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.LossScaling && f.Text.Contains("EnableMixedPrecision", StringComparison.Ordinal)
            && f.Text.Contains("raise it", StringComparison.Ordinal));
    }

    [Fact]
    public void The_same_float16_model_with_a_normal_loss_raises_no_precision_alert()
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(ScalarType.Float16);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(ScalarType.Float16);
        using var monitor = model.AttachGradientMonitor();
        var alerts = new List<GradientAlert>();
        monitor.AlertRaised += (_, a) => alerts.Add(a);

        for (int step = 0; step < 3; step++)
        {
            monitor.Step(SixteenBitModels.Backward(model, input, target, lossFactor: 64));
        }

        Assert.DoesNotContain(alerts, a => a.Kind == GradientAlertKind.Precision);
    }

    private static (double First, double Last, List<GradientAlert> Alerts) Train(ScalarType dtype, double learningRate, int steps)
    {
        var model = SixteenBitModels.TanhMlp(dtype);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(dtype);
        using var monitor = model.AttachGradientMonitor(o => (o.CaptureParameterUpdates, o.FullStatisticsInterval) = (true, 1));
        using var optimizer = optim.SGD(model.parameters(), learningRate);
        var alerts = new List<GradientAlert>();
        monitor.AlertRaised += (_, a) => alerts.Add(a);
        double first = double.NaN, last = double.NaN;
        for (int step = 0; step < steps; step++)
        {
            Tensor loss = SixteenBitModels.Backward(model, input, target);
            (first, last) = (step == 0 ? loss.to(ScalarType.Float64).item<double>() : first, loss.to(ScalarType.Float64).item<double>());
            if (!monitor.Step(loss).SkipStep)
            {
                optimizer.step();
            }
        }

        return (first, last, alerts);
    }
}
