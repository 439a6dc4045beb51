using GradientDiagnostics.TorchSharp.Tests.ModelZoo;
using GradientDiagnostics.TorchSharp.Tests.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>A default attach runs what it enables: layer-output probes at the full-statistics cadence, so the depth profile,
/// Saturation and DeadUnits run, and layers no hook can see are told in one Information line, not a warning each.</summary>
public sealed class DefaultOptionsTests
{
    private const int Width = 32;

    [Fact]
    public void Default_attach_probes_every_layer_and_logs_no_DetectorsIdle_and_no_warning()
    {
        manual_seed(250);
        var logger = new FakeLogger();
        using var model = Mlp.Create(depth: 4, Width, Activation.Sigmoid, Init.Xavier);

        using var monitor = model.AttachGradientMonitor(logger: logger);
        List<GradientStepResult> results = Training.Run(model, monitor, steps: 2, Width);

        Assert.Equal(monitor.LayerNames, monitor.ProbedLayers);
        Assert.Equal(monitor.LayerNames, monitor.CapturedLayers);
        Assert.All(results[0].Layers, l => Assert.NotNull(l.Activations));
        Assert.All(results[1].Layers, l => Assert.Null(l.OutputGradientNorm)); // a cheap step: no probe
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.DetectorsIdle || r.Level >= LogLevel.Warning);
    }

    [Fact]
    public void Default_attach_to_a_20_layer_sigmoid_mlp_measures_the_depth_gain_on_full_steps_and_its_alert_carries_it()
    {
        manual_seed(251);
        using var model = Mlp.Create(depth: 20, Width, Activation.Sigmoid, Init.Xavier);
        using var monitor = model.AttachGradientMonitor();

        // The depth criterion is judged on full steps only (0, 20, 40): three of them make its k of n.
        List<GradientStepResult> results = Training.Run(model, monitor, steps: 41, Width);

        GradientStepResult[] full = [.. results.Where(r => r.Kind == GradientStepKind.Full)];
        Assert.Equal([0L, 20, 40], full.Select(r => r.Step));
        Assert.All(full, r => Assert.InRange(r.DepthGain!.Value, 0.05, 0.6)); // sigmoid + Xavier: about 0.24 per layer
        Assert.All(results.Where(r => r.Kind == GradientStepKind.Cheap), r => Assert.Null(r.DepthGain));
        GradientAlert[] alerts = [.. results.SelectMany(r => r.Alerts).Where(a => a.Kind is GradientAlertKind.Vanishing or GradientAlertKind.Saturation)];
        GradientAlert depth = Assert.Single(alerts, a => a.Criteria.Any(c => c.Metric == GradientMetricNames.DepthGainOverDepth));
        Assert.Equal(results[(int)depth.Step].DepthGainOverDepth, depth.Criteria.First(c => c.Metric == GradientMetricNames.DepthGainOverDepth).Value);
        Assert.Contains("‖∂L/∂y‖ shrinks by a factor", depth.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_attach_to_a_model_calling_child_forward_logs_one_information_line_naming_GD0001()
    {
        manual_seed(252);
        var logger = new FakeLogger();
        using var model = new BypassingModel();
        using var monitor = model.AttachGradientMonitor(logger: logger);

        for (int i = 0; i < 41; i++)
        {
            using var scope = NewDisposeScope();
            model.call(randn(4, 8)).square().mean().backward();
            monitor.Step();
            model.zero_grad();
        }

        FakeLogRecord[] records = [.. logger.Collector.GetSnapshot()];
        FakeLogRecord notice = Assert.Single(records, r => r.Id.Id == GradientLogEvents.LayerOutputNotCaptured);
        Assert.Equal(LogLevel.Information, notice.Level);
        Assert.Contains("GD0001", notice.Message, StringComparison.Ordinal);
        Assert.Equal("CapturedLayers", notice.GetStructuredStateValue("Property"));
        Assert.Equal("first", notice.GetStructuredStateValue("Layers"));
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Warning);
    }

    [Fact]
    public void Default_attach_to_a_native_transformer_encoder_logs_one_information_line_naming_UnprobedLayers()
    {
        manual_seed(253);
        var logger = new FakeLogger();
        using var zoo = new TransformerClassifier();

        using var monitor = zoo.Model.AttachGradientMonitor(logger: logger);
        using (var scope = NewDisposeScope())
        {
            zoo.Loss(new Generator(1)).backward();
            monitor.Step();
        }

        FakeLogRecord notice = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.LayerOutputNotCaptured);
        Assert.Equal(LogLevel.Information, notice.Level);
        Assert.Contains("GD0001", notice.Message, StringComparison.Ordinal);
        Assert.Equal("UnprobedLayers", notice.GetStructuredStateValue("Property"));
        Assert.Equal(monitor.UnprobedLayers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), notice.GetStructuredStateValue("Count"));
        Assert.Equal(11, monitor.UnprobedLayers.Count);
    }

    [Fact]
    public void AlertRaised_hands_subscribers_the_monitor_as_sender_and_isolates_each_of_them()
    {
        manual_seed(254);
        using var model = Mlp.Create(depth: 20, Width, Activation.Sigmoid, Init.TorchSharpDefault);
        using var monitor = model.AttachGradientMonitor();
        var senders = new List<object?>();
        EventHandler<GradientAlert> throwing = (_, _) => throw new InvalidOperationException("a subscriber's fault");
        EventHandler<GradientAlert> removed = (s, _) => senders.Add("removed handler ran");
        monitor.AlertRaised += throwing;
        monitor.AlertRaised += (s, _) => senders.Add(s);
        monitor.AlertRaised += removed;
        monitor.AlertRaised -= removed;

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 5, Width);

        Assert.NotEmpty(senders);
        Assert.Equal(results.Sum(r => r.Alerts.Count), senders.Count);
        Assert.All(senders, s => Assert.Same(monitor, s));
    }
}
