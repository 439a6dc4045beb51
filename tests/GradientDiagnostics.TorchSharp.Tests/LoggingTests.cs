using GradientDiagnostics.TorchSharp.Tests.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

public sealed class LoggingTests
{
    [Fact]
    public void Alert_is_logged_with_its_level_event_id_and_structured_fields()
    {
        manual_seed(5);
        var logger = new FakeLogger();
        using var model = Mlp.Create(depth: 30, 128, Activation.ReLU, Init.He, initScale: 3.0);
        using var monitor = model.AttachGradientMonitor(logger: logger);

        GradientStepResult result = Training.Run(model, monitor, steps: 1, 128, learningRate: 0)[0];

        GradientAlert alert = result.Alerts.First(a => a.Metric == GradientMetricNames.GlobalGradientNorm);
        FakeLogRecord record = logger.Collector.GetSnapshot().First(r => r.Message.Contains(GradientMetricNames.GlobalGradientNorm, StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Equal(GradientLogEvents.Exploding, record.Id.Id);
        Assert.Equal("Exploding", record.Id.Name);
        Assert.Equal("Exploding", record.GetStructuredStateValue("Kind"));
        Assert.Equal(GradientAlert.GlobalLayerName, record.GetStructuredStateValue("Layer"));
        Assert.Equal("0", record.GetStructuredStateValue("Step"));
        Assert.Equal(GradientMetricNames.GlobalGradientNorm, record.GetStructuredStateValue("Metric"));
        Assert.Equal(alert.Value, double.Parse(record.GetStructuredStateValue("Value")!, System.Globalization.CultureInfo.InvariantCulture), 6);
        Assert.Equal("10000", record.GetStructuredStateValue("Threshold"));
    }

    [Fact]
    public void Non_finite_alert_logs_at_error_level()
    {
        var logger = new FakeLogger();
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(logger: logger);
        using var x = randn(4, 8);
        using var output = model.call(x);
        using var loss = output.mean() * float.PositiveInfinity;
        loss.backward();

        GradientStepResult result = monitor.Step(loss);

        Assert.True(result.SkipStep);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error && r.Id.Id == GradientLogEvents.NonFinite && r.GetStructuredStateValue("Layer") == GradientAlert.LossLayerName);
    }

    [Fact]
    public void A_throwing_alert_subscriber_is_logged_once_and_does_not_break_step()
    {
        var logger = new FakeLogger();
        using var model = Mlp.Create(depth: 30, 128, Activation.ReLU, Init.He, initScale: 3.0);
        using var monitor = model.AttachGradientMonitor(o => o.Exploding.CooldownSteps = 0, logger);
        int calls = 0;
        monitor.AlertRaised += (_, _) => throw new InvalidOperationException("subscriber bug");
        monitor.AlertRaised += (_, _) => calls++;

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 3, 128, learningRate: 0);

        Assert.All(results, r => Assert.NotEmpty(r.Alerts));
        Assert.Equal(results.Sum(r => r.Alerts.Count), calls);
        Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.AlertHandlerFailed);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    [InlineData(null, 0)]
    public void Detectors_that_need_layer_outputs_say_once_at_attach_when_they_cannot_run(bool? captureLayerOutputs, int expected)
    {
        var logger = new FakeLogger();
        using var model = Mlp.Create(depth: 3, 8, Activation.Sigmoid, Init.Xavier);

        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = captureLayerOutputs, logger);

        FakeLogRecord[] idle = [.. logger.Collector.GetSnapshot().Where(r => r.Id.Id == GradientLogEvents.DetectorsIdle)];
        Assert.Equal(expected, idle.Length);
        Assert.All(idle, r => Assert.Equal("Saturation, DeadUnits", r.GetStructuredStateValue("Detectors")));
    }
}
