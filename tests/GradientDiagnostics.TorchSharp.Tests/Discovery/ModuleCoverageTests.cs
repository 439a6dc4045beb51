using GradientDiagnostics.TorchSharp.Tests.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>Every common module is found, measured and probed, and each probe agrees with libtorch's own ∂L/∂y.</summary>
public sealed class ModuleCoverageTests
{
    [Fact]
    public void Sequential_of_linear_layers_is_probed_on_every_layer()
    {
        manual_seed(20);
        using var model = Mlp.Create(depth: 5, 16, Activation.ReLU, Init.He);
        AssertEveryLayerProbed(model, () => randn(8, 16), ["fc0.linear", "fc1.linear", "fc2.linear", "fc3.linear", "head"]);
    }

    [Fact]
    public void Nested_custom_modules_calling_children_through_call_are_probed()
    {
        manual_seed(21);
        using var model = Mlp.Create(depth: 4, 16, Activation.ReLU, Init.He, residual: true);
        AssertEveryLayerProbed(model, () => randn(8, 16), ["block0.linear", "block1.linear", "block2.linear", "head"]);
    }

    [Fact]
    public void Conv1d_and_batchnorm1d_are_probed()
    {
        manual_seed(22);
        using var model = nn.Sequential(
            ("conv", nn.Conv1d(3, 8, 3)), ("bn", nn.BatchNorm1d(8)), ("act", nn.ReLU()),
            ("flat", nn.Flatten()), ("head", nn.Linear(8 * 10, 1)));
        AssertEveryLayerProbed(model, () => randn(4, 3, 12), ["conv", "bn", "head"]);
    }

    [Fact]
    public void Conv2d_and_batchnorm2d_are_probed_with_channels_as_units()
    {
        manual_seed(23);
        using var model = nn.Sequential(
            ("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)), ("act", nn.ReLU()),
            ("flat", nn.Flatten()), ("head", nn.Linear(4 * 6 * 6, 1)));
        IReadOnlyList<LayerObservation> observations = AssertEveryLayerProbed(model, () => randn(5, 3, 8, 8), ["conv", "bn", "head"]);

        Assert.Equal(4, observations[1].Activations!.UnitActiveFraction.Length); // bn → ReLU: 4 channels
        Assert.Equal(5 * 4 * 6 * 6, observations[1].Activations!.ElementCount);
    }

    [Fact]
    public void Layer_norm_is_probed()
    {
        manual_seed(24);
        using var model = nn.Sequential(("fc", nn.Linear(16, 16)), ("norm", nn.LayerNorm(16)), ("act", nn.GELU()), ("head", nn.Linear(16, 1)));
        AssertEveryLayerProbed(model, () => randn(8, 16), ["fc", "norm", "head"]);
    }

    [Fact]
    public void Embedding_is_probed()
    {
        manual_seed(25);
        using var model = nn.Sequential(("emb", nn.Embedding(50, 16)), ("act", nn.Tanh()), ("head", nn.Linear(16, 1)));
        AssertEveryLayerProbed(model, () => randint(0, 50, [4, 7]), ["emb", "head"]);
    }

    [Theory]
    [InlineData(RecurrentKind.RNN)]
    [InlineData(RecurrentKind.LSTM)]
    [InlineData(RecurrentKind.GRU)]
    public void Recurrent_layers_with_tuple_outputs_are_probed(RecurrentKind kind)
    {
        manual_seed(26);
        using var model = new RecurrentRegressor(kind, 6, 12);
        AssertEveryLayerProbed(model, () => randn(9, 4, 6), ["recurrent", "head"]);
    }

    [Fact]
    public void Tied_weights_are_counted_once_in_the_first_module_that_owns_them()
    {
        manual_seed(27);
        using var model = new TiedEmbeddingModel(30, 8);
        using var monitor = model.AttachGradientMonitor();
        using var scope = NewDisposeScope();
        model.call(randint(0, 30, [4, 5])).square().mean().backward();

        GradientStepResult result = monitor.Step();

        Assert.Equal(["embedding", "hidden"], monitor.LayerNames); // output's only parameter is the embedding's
        // The tied weight's gradient holds both uses (embedding lookup and output projection), counted once.
        using var scope2 = NewDisposeScope();
        Tensor[] distinct = [model.get_parameter("embedding.weight")!.grad!, model.get_parameter("hidden.weight")!.grad!, model.get_parameter("hidden.bias")!.grad!];
        double expected = Math.Sqrt(distinct.Sum(g => g.to_type(ScalarType.Float64).square().sum().item<double>()));
        Assert.Equal(expected, result.GlobalNorm, 1e-6 * expected);
    }

    [Fact]
    public void Child_called_through_forward_is_reported_once_by_name_with_the_fix()
    {
        manual_seed(28);
        var logger = new FakeLogger();
        using var model = new BypassingModel();
        using var monitor = model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 1; }, logger);

        List<GradientStepResult> results = [];
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            model.call(randn(4, 8)).square().mean().backward();
            results.Add(monitor.Step());
        }

        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.LayerOutputNotCaptured);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal("first", warning.GetStructuredStateValue("Layer"));
        Assert.Contains("call(x)", warning.Message, StringComparison.Ordinal);
        Assert.All(results, r => Assert.Null(r.Layers[0].OutputGradientNorm));
        Assert.All(results, r => Assert.NotNull(r.Layers[1].OutputGradientNorm));
    }

    private static IReadOnlyList<LayerObservation> AssertEveryLayerProbed(nn.Module<Tensor, Tensor> model, Func<Tensor> input, string[] layers)
    {
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        Assert.Equal(layers, monitor.LayerNames);
        using var reference = new OutputGradientRecorder(model, layers);
        using var scope = NewDisposeScope();

        model.call(input()).square().mean().backward();
        GradientStepResult result = monitor.Step();

        foreach (LayerGradientStatistics layer in result.Layers)
        {
            double expected = reference.Norm(layer.Name);
            Assert.True(expected > 0, layer.Name);
            Assert.True(layer.OutputGradientNorm is double actual && Math.Abs(actual - expected) <= 1e-4 * expected, $"{layer.Name}: {layer.OutputGradientNorm} vs {expected}");
            Assert.True(layer.GradientNorm > 0 && double.IsFinite(layer.GradientNorm), layer.Name);
        }

        Assert.NotNull(result.DepthGain);
        Assert.All(monitor.LastObservations, o => Assert.True(o.Activations is { ElementCount: > 0 }));
        return [.. monitor.LastObservations];
    }
}
