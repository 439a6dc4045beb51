using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.ModelZoo;

/// <summary>
/// Issue 13 §6: the monitor on architectures TorchSharp users train (TorchVision's ResNet-18 and MobileNetV2, the native
/// Transformer and MultiheadAttention modules, LSTM and GRU taggers, a model in the <c>child.forward(x)</c> style of
/// TorchSharp's examples), a few SGD steps each on synthetic data.
/// </summary>
public sealed class ModelZooTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models => ["resnet18", "mobilenet_v2", "transformer_encoder", "multihead_attention", "lstm_tagger", "gru_tagger", "forward_calls"];

    [Theory]
    [MemberData(nameof(Models))]
    public void Global_norm_is_torchs_own_and_healthy_training_raises_no_gradient_alert(string name)
    {
        manual_seed(13);
        using ZooModel zoo = Create(name);
        using var monitor = zoo.Model.AttachGradientMonitor();
        using var optimizer = optim.SGD(zoo.Model.parameters(), 0.01);
        var generator = new Generator(5);
        for (int step = 0; step < 6; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            zoo.Loss(generator).backward();
            double expected = TorchGlobalNorm(zoo.Model);
            GradientStepResult result = monitor.Step();
            Assert.Equal(expected, result.GlobalNorm, expected * 1e-6);
            foreach (GradientAlert alert in result.Alerts)
            {
                output.WriteLine($"step {step}: {alert.Kind} {alert.Layer}: {alert.Message}");
            }

            Assert.DoesNotContain(result.Alerts, a => a.Kind is GradientAlertKind.Vanishing or GradientAlertKind.Exploding or GradientAlertKind.NonFinite);
            optimizer.step();
        }

        output.WriteLine($"{name}: {monitor.LayerNames.Count} layers");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Probes_measure_at_least_half_of_the_layers_or_say_which_they_cannot(string name)
    {
        manual_seed(13);
        using ZooModel zoo = Create(name);
        var logger = new FakeLogger();
        using var monitor = zoo.Model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 1; }, logger);
        var generator = new Generator(5);
        GradientStepResult result;
        using (var scope = NewDisposeScope())
        {
            zoo.Loss(generator).backward();
            result = monitor.Step();
        }

        int measured = result.Layers.Count(l => l.OutputGradientNorm is not null);
        FakeLogRecord[] warnings = [.. logger.Collector.GetSnapshot().Where(r => r.Id.Id == GradientLogEvents.LayerOutputNotCaptured)];
        output.WriteLine($"{name}: {measured} of {result.Layers.Count} layers measured; probed {monitor.ProbedLayers.Count}, captured {monitor.CapturedLayers.Count}");
        foreach (FakeLogRecord warning in warnings)
        {
            output.WriteLine($"  {warning.Level}: {warning.Message}");
        }

        Assert.Equal(monitor.CapturedLayers.Count, measured);
        Assert.True(2 * measured >= result.Layers.Count || warnings.Length > 0, $"{measured} of {result.Layers.Count} layers measured, and no warning");
        Assert.All(warnings, w => Assert.Equal(LogLevel.Warning, w.Level));
        // Every layer is either probed or explained.
        Assert.Equal(monitor.LayerNames.Count, monitor.ProbedLayers.Count + monitor.UnprobedLayers.Count);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_nan_in_a_deep_parameters_gradient_is_named_at_its_module_and_the_step_is_skipped(string name)
    {
        manual_seed(13);
        using ZooModel zoo = Create(name);
        using var monitor = zoo.Model.AttachGradientMonitor(o => o.Clipping = GradientClipping.ByGlobalNorm(1.0));
        var generator = new Generator(5);
        using var scope = NewDisposeScope();
        zoo.Loss(generator).backward();
        Tensor grad = zoo.Model.named_parameters().Single(p => p.name == zoo.DeepParameter).parameter.grad!;
        grad.view(-1)[0] = tensor(float.NaN);

        GradientStepResult result = monitor.Step();

        string owner = zoo.DeepParameter[..zoo.DeepParameter.LastIndexOf('.')];
        GradientAlert alert = Assert.Single(result.Alerts, a => a.Kind == GradientAlertKind.NonFinite);
        output.WriteLine($"{name}: NaN in {zoo.DeepParameter} -> alert on layer {alert.Layer}");
        Assert.True(alert.Layer == owner || alert.Layer.StartsWith(owner + ".", StringComparison.Ordinal), $"alert names {alert.Layer}, not {owner}");
        Assert.True(result.SkipStep);
        Assert.All(zoo.Model.parameters(), p => Assert.True(isfinite(p).all().item<bool>()));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Probed_steps_clipped_by_global_norm_hold_the_bound_and_leak_no_tensors(string name)
    {
        const int Warmup = 1, Steps = 3;
        const double MaxNorm = 1e-3;
        manual_seed(13);
        using ZooModel zoo = Create(name);
        using var optimizer = optim.SGD(zoo.Model.parameters(), 0.01);
        var generator = new Generator(5);
        // The model's own growth, measured the same way without a monitor (a native attention model leaks by itself).
        long baseline = LiveGrowth(zoo, optimizer, generator, null, MaxNorm, Warmup, Steps);
        using var monitor = zoo.Model.AttachGradientMonitor(o =>
        {
            o.CaptureLayerOutputs = true;
            o.FullStatisticsInterval = 1;
            o.Clipping = GradientClipping.ByGlobalNorm(MaxNorm);
        });
        long monitored = LiveGrowth(zoo, optimizer, generator, monitor, MaxNorm, Warmup, Steps);
        output.WriteLine($"{name}: live tensors over {Steps} steps: {baseline} without the monitor, {monitored} with it");
        Assert.Equal(baseline, monitored);
    }

    internal static ZooModel Create(string name) => name switch
    {
        "resnet18" => VisionModel.ResNet18(),
        "mobilenet_v2" => VisionModel.MobileNetV2(),
        "transformer_encoder" => new TransformerClassifier(),
        "multihead_attention" => new AttentionModel(),
        "lstm_tagger" => RecurrentTagger.Lstm(),
        "gru_tagger" => RecurrentTagger.Gru(),
        "forward_calls" => new ForwardCallingModel(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    /// <summary>√Σ‖g‖² over every parameter, in float64, as torch computes it.</summary>
    internal static double TorchGlobalNorm(nn.Module model)
    {
        using var scope = NewDisposeScope();
        double squares = 0;
        foreach (var p in model.parameters())
        {
            if (p.grad is Tensor g)
            {
                squares += g.to_type(ScalarType.Float64).square().sum().item<double>();
            }
        }

        return Math.Sqrt(squares);
    }

    /// <summary>Live tensors gained over <paramref name="steps"/> steps after <paramref name="warmup"/>; with a monitor,
    /// also checks every step's clipping bound.</summary>
    private static long LiveGrowth(ZooModel zoo, optim.Optimizer optimizer, Generator generator, GradientMonitor? monitor, double maxNorm, int warmup, int steps)
    {
        long start = 0;
        for (int step = 0; step < warmup + steps; step++)
        {
            if (step == warmup)
            {
                start = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }

            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            zoo.Loss(generator).backward();
            if (monitor is not null)
            {
                GradientStepResult result = monitor.Step();
                Assert.True(result.ClippingActed, $"norm {result.GlobalNorm} was not clipped to {maxNorm}");
                Assert.InRange(TorchGlobalNorm(zoo.Model), 0, maxNorm * (1 + 1e-6));
            }

            optimizer.step();
        }

        return DisposeScopeManager.Statistics.ThreadTotalLiveCount - start;
    }
}
