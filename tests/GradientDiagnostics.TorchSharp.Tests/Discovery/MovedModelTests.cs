using GradientDiagnostics.TorchSharp.Tests.ModelZoo;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>Issue 13 §4: <c>model.to(...)</c> after attach replaces or converts the parameters; the next
/// <c>Step()</c> follows them, keeping names, history and options, and never surfaces a native handle error.</summary>
public sealed class MovedModelTests
{
    public static TheoryData<string> Conversions => ["float64", "half", "bfloat16"];

    [Theory]
    [MemberData(nameof(Conversions))]
    public void Step_follows_a_model_converted_after_attach_with_probes_clipping_and_parameter_updates(string conversion)
    {
        manual_seed(4);
        using var zoo = new AttentionModel(); // managed Linear/LayerNorm/Embedding and native MultiheadAttention
        using var monitor = zoo.Model.AttachGradientMonitor(o =>
        {
            o.CaptureLayerOutputs = true;
            o.FullStatisticsInterval = 1;
            o.CaptureParameterUpdates = true;
            o.Clipping = GradientClipping.ByGlobalNorm(1e-3);
        });
        string[] names = [.. monitor.LayerNames];
        var generator = new Generator(2);
        Train(zoo, monitor, generator, 2);

        ScalarType type = conversion switch { "float64" => ScalarType.Float64, "half" => ScalarType.Float16, _ => ScalarType.BFloat16 };
        if (type == ScalarType.Float16)
        {
            zoo.Model.half();
        }
        else
        {
            zoo.Model.to(type);
        }

        List<GradientStepResult> after = Train(zoo, monitor, generator, 3);

        Assert.Equal(names, monitor.LayerNames);
        Assert.Equal([2L, 3L, 4L], after.Select(r => r.Step)); // history kept
        Assert.All(zoo.Model.parameters(), p => Assert.Equal(type, p.dtype));
        Assert.All(after, r => Assert.True(r.ClippingActed));
        Assert.All(after, r => Assert.Equal(r.Layers.Count, names.Length));
        Assert.Contains(after[^1].Layers, l => l.OutputGradientNorm > 0); // probes still run on the converted model
        double tolerance = type == ScalarType.Float64 ? 1e-6 : 1e-2; // float16 / bfloat16 gradients after clipping
        Assert.InRange(ModelZooTests.TorchGlobalNorm(zoo.Model), 0, 1e-3 * (1 + tolerance));
    }

    [Fact]
    public void Global_norm_after_a_move_is_torchs_own()
    {
        manual_seed(4);
        using var zoo = new TransformerClassifier();
        using var monitor = zoo.Model.AttachGradientMonitor();
        var generator = new Generator(2);
        Train(zoo, monitor, generator, 1);
        zoo.Model.to(ScalarType.Float64);

        using var scope = NewDisposeScope();
        zoo.Loss(generator).backward();
        double expected = ModelZooTests.TorchGlobalNorm(zoo.Model);
        GradientStepResult result = monitor.Step();

        Assert.Equal(expected, result.GlobalNorm, expected * 1e-9);
    }

    [Fact]
    public void A_model_whose_layers_changed_throws_an_invalid_operation_that_says_what_changed_and_how_to_fix_it()
    {
        using var model = nn.Sequential(("a", nn.Linear(4, 4)), ("b", nn.Linear(4, 1)));
        using var monitor = model.AttachGradientMonitor();
        ((Linear)model[1]).weight!.requires_grad = false; // b.weight frozen: b keeps only its bias
        model.to(ScalarType.Float64);

        using var scope = NewDisposeScope();
        nn.functional.mse_loss(model.call(randn(2, 4, dtype: ScalarType.Float64)), zeros(2, 1, dtype: ScalarType.Float64)).backward();
        var error = Assert.Throws<InvalidOperationException>(() => monitor.Step());

        Assert.Contains("layer a was replaced", error.Message, StringComparison.Ordinal);
        Assert.Contains("attach a new one", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("handle", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static List<GradientStepResult> Train(ZooModel zoo, GradientMonitor monitor, Generator generator, int steps)
    {
        var results = new List<GradientStepResult>();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            zoo.Model.zero_grad();
            zoo.Loss(generator).backward();
            results.Add(monitor.Step());
        }

        return results;
    }
}
