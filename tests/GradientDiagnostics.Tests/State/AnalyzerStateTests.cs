using System.Text.Json;
using GradientDiagnostics.Tests.Detection;

namespace GradientDiagnostics.Tests.State;

/// <summary>The framework-free state document: an analyzer driven from arrays, saved at step 60 and loaded into a new one,
/// decides every later step as the unbroken analyzer does; the document has the documented fields.</summary>
public sealed class AnalyzerStateTests
{
    private static readonly LayerDescriptor[] Layers = Synthetic.Linear(3, 16, ActivationKind.ReLU);

    [Fact]
    public void An_analyzer_loaded_from_a_saved_state_decides_every_later_step_as_the_unbroken_one()
    {
        Action<GradientMonitorOptions> options = o => o.Clipping = GradientClipping.ZScore().Then(GradientClipping.AutoClip(window: 50));
        using GradientAnalyzer unbroken = Synthetic.Analyzer(Layers, options);
        List<string> expected = [.. Enumerable.Range(0, 120).Select(step => Describe(unbroken, step))];

        using GradientAnalyzer first = Synthetic.Analyzer(Layers, options);
        List<string> actual = [.. Enumerable.Range(0, 60).Select(step => Describe(first, step))];
        using var state = new MemoryStream();
        first.SaveState(state);
        state.Position = 0;
        using GradientAnalyzer resumed = Synthetic.Analyzer(Layers, options);
        resumed.LoadState(state);
        actual.AddRange(Enumerable.Range(60, 60).Select(step => Describe(resumed, step)));

        Assert.Equal(expected, actual);
        Assert.Contains(expected, d => d.Contains("Exploding", StringComparison.Ordinal)); // the spike at step 90 was judged
    }

    [Fact]
    public void The_document_has_its_versions_layers_by_name_and_the_scaler_fields_named_as_GradScaler()
    {
        using GradientAnalyzer analyzer = Synthetic.Analyzer(Layers);
        analyzer.EnableLossScaling(LossScaling.Dynamic(1024, growthInterval: 3));
        for (int step = 0; step < 5; step++)
        {
            Describe(analyzer, step);
        }

        using var stream = new MemoryStream();
        analyzer.SaveState(stream);
        JsonElement root = JsonDocument.Parse(stream.ToArray()).RootElement;

        Assert.Equal(1, root.GetProperty("formatVersion").GetInt32());
        Assert.Equal(1, root.GetProperty("minReaderVersion").GetInt32());
        Assert.Equal(5, root.GetProperty("step").GetInt64());
        Assert.Equal(["fc0", "fc1", "fc2"], root.GetProperty("layers").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(["fc0", "fc1", "fc2"], root.GetProperty("history").GetProperty("layers").EnumerateObject().Select(p => p.Name));
        JsonElement scaler = root.GetProperty("lossScaler");
        Assert.Equal(["scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"], scaler.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2048, scaler.GetProperty("scale").GetDouble()); // grown once after 3 clean steps
        Assert.Equal(2, scaler.GetProperty("_growth_tracker").GetInt32());
    }

    /// <summary>Analyzes one step of gradients that drift slowly, with a spike at step 90, and describes its outcome.</summary>
    private static string Describe(GradientAnalyzer analyzer, int step)
    {
        float scale = step == 90 ? 100f : 1f + (0.01f * (step % 7));
        var target = new ArrayClippingTarget([.. Layers.Select((_, i) =>
            new[] { new ArrayClippingTarget.Parameter(Synthetic.Weights(64, scale * (i + 1) * 1e-2, seed: (step * 7) + i), new float[64], 4) })]);
        GradientStepResult result = analyzer.Analyze(target.Observe(), loss: 1.0 / (step + 1), clippingTarget: target);
        return $"{result.Step} {result.GlobalNorm:R} {result.ClippingCoefficient:R} {result.SkipStep} {result.LossScale:R} " +
            string.Join(",", result.Alerts.Select(a => $"{a.Kind}:{a.Layer}"));
    }
}
