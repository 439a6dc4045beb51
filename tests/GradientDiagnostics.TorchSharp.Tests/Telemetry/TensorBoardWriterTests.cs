using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Telemetry;

public sealed class TensorBoardWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-tensorboard-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Event_file_has_valid_tfrecord_framing_and_the_expected_tags_at_the_export_interval()
    {
        manual_seed(11);
        string logDirectory = Path.Combine(_directory, "runs", "exp1");
        using var model = Mlp.Create(depth: 4, 16, Activation.Sigmoid, Init.TorchSharpDefault);
        using var monitor = model.AttachGradientMonitor(o => (o.Telemetry.TensorBoardLogDirectory, o.Telemetry.ExportInterval) = (logDirectory, 2));

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 5, 16);

        string file = Assert.Single(Directory.GetFiles(logDirectory, "events.out.tfevents.*"));
        List<TensorBoardEventFile.Event> events = TensorBoardEventFile.Read(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        var values = events.Skip(1).SelectMany(e => e.Values.Select(v => (e.Step, v))).ToList();
        Assert.Equal([0L, 2L, 4L], values.Select(v => v.Step).Distinct().Order());

        var expectedTags = new List<string> { "gradients/global_norm" };
        expectedTags.AddRange(monitor.LayerNames.Select(n => $"gradients/norm/{n}"));
        expectedTags.AddRange(monitor.LayerNames.Select(n => $"gradients/histogram/{n}"));
        expectedTags.AddRange(Enum.GetNames<GradientAlertKind>().Select(k => $"alerts/{k}"));
        foreach (long step in new[] { 0L, 2L, 4L })
        {
            Assert.Equal(expectedTags.Order(), values.Where(v => v.Step == step).Select(v => v.v.Tag).Order());
            GradientStepResult result = results[(int)step];
            Assert.Equal((float)result.GlobalNorm, values.Single(v => v.Step == step && v.v.Tag == "gradients/global_norm").v.Simple);
            for (int i = 0; i < result.Layers.Count; i++)
            {
                Assert.Equal((float)result.Layers[i].GradientNorm, values.Single(v => v.Step == step && v.v.Tag == $"gradients/norm/{result.Layers[i].Name}").v.Simple);
                Assert.Equal(result.Layers[i].Gradient.ElementCount, values.Single(v => v.Step == step && v.v.Tag == $"gradients/histogram/{result.Layers[i].Name}").v.HistogramCount);
            }
        }
    }

    [Fact]
    public void With_clipping_the_histogram_shows_the_post_clip_gradients_whose_norm_is_written_beside_it()
    {
        manual_seed(12);
        string logDirectory = Path.Combine(_directory, "clipped");
        using var model = Mlp.Create(depth: 3, 16, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o =>
            (o.Telemetry.TensorBoardLogDirectory, o.Telemetry.ExportInterval, o.Clipping) = (logDirectory, 1, GradientClipping.ByLayerNorm(1e-3)));

        GradientStepResult result = Training.Run(model, monitor, steps: 1, 16).Single();

        var values = TensorBoardEventFile.Read(Directory.GetFiles(logDirectory).Single()).SelectMany(e => e.Values).ToList();
        foreach (LayerGradientStatistics layer in result.Layers)
        {
            double after = layer.GradientNormAfterClipping!.Value;
            Assert.InRange(after, 0.9e-3, 1.0e-3);
            Assert.True(layer.GradientNorm > 10 * after, $"{layer.Name}: {layer.GradientNorm} before");
            Assert.Equal((float)after, values.Single(v => v.Tag == $"gradients/norm_after_clipping/{layer.Name}").Simple);
            double histogramNorm = Math.Sqrt(values.Single(v => v.Tag == $"gradients/histogram/{layer.Name}").HistogramSumSquares!.Value);
            Assert.Equal(after, histogramNorm, after * 1e-4);
        }
    }

    [Fact]
    public void Histograms_hold_the_gradients_values_range_sum_and_bucket_counts()
    {
        manual_seed(13);
        string logDirectory = Path.Combine(_directory, "histograms");
        using var model = Mlp.Create(depth: 3, 16, Activation.Tanh, Init.Xavier);
        using var monitor = model.AttachGradientMonitor(o => (o.Telemetry.TensorBoardLogDirectory, o.Telemetry.ExportInterval) = (logDirectory, 1));
        using var x = randn(8, 16);
        using var output = model.call(x);
        using var loss = output.square().mean();
        loss.backward();
        monitor.Step(loss);

        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        var histograms = TensorBoardEventFile.Read(Directory.GetFiles(logDirectory).Single()).SelectMany(e => e.Values)
            .Where(v => v.Histo is not null).ToDictionary(v => v.Tag, v => v.Histo!);
        foreach (string layer in monitor.LayerNames)
        {
            // The reference: the layer's gradient values, read straight from libtorch (weights and biases together).
            double[] values = [.. modules[layer].parameters().SelectMany(p => { using var g = p.grad!; return g.data<float>().ToArray(); }).Select(v => (double)v)];
            TensorBoardEventFile.Histogram h = histograms[$"gradients/histogram/{layer}"];

            Assert.Equal(values.Length, h.Num);
            Assert.Equal(values.Min(), h.Min);
            Assert.Equal(values.Max(), h.Max);
            Assert.Equal(values.Sum(), h.Sum, 1e-5 * values.Sum(Math.Abs));
            Assert.Equal(values.Sum(v => v * v), h.SumSquares, 1e-5 * values.Sum(v => v * v));
            Assert.Equal(h.BucketLimits.Count, h.Buckets.Count);
            Assert.True(h.Buckets.Count > 1, $"{layer}: {h.Buckets.Count} bucket(s)");
            Assert.Equal(values.Length, h.Buckets.Sum());
            Assert.True(h.BucketLimits.Last() >= values.Max());
            // Every bucket counts the values between its lower and upper limit: the cumulative count up to a limit lies
            // between the values strictly below it and the values up to it (ties at a limit may go either way).
            double cumulative = 0;
            for (int i = 0; i < h.Buckets.Count; i++)
            {
                cumulative += h.Buckets[i];
                double limit = h.BucketLimits[i];
                Assert.InRange(cumulative, values.Count(v => v < limit), values.Count(v => v <= limit));
            }
        }
    }

    [Fact]
    public void Alert_counts_are_the_alerts_raised_since_the_previous_write()
    {
        manual_seed(5);
        string logDirectory = Path.Combine(_directory, "alerts");
        using var model = Mlp.Create(depth: 30, 64, Activation.ReLU, Init.He, initScale: 3.0);
        var logger = new Microsoft.Extensions.Logging.Testing.FakeLogger();
        using var monitor = model.AttachGradientMonitor(o => (o.Telemetry.TensorBoardLogDirectory, o.Telemetry.ExportInterval, o.Exploding.CooldownSteps) = (logDirectory, 3, 0), logger);

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 4, 64, learningRate: 0);

        List<TensorBoardEventFile.Event> events = TensorBoardEventFile.Read(Directory.GetFiles(logDirectory).Single());
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.TelemetryOutputFailed);
        float At(long step) => events.Where(e => e.Step == step).SelectMany(e => e.Values).Single(v => v.Tag == "alerts/Exploding").Simple!.Value;
        int Exploding(int from, int to) => results.Skip(from).Take(to - from).Sum(r => r.Alerts.Count(a => a.Kind == GradientAlertKind.Exploding));
        Assert.True(Exploding(0, 4) > 0);
        Assert.Equal(Exploding(0, 1), At(0));
        Assert.Equal(Exploding(1, 4), At(3));
    }

    [Fact]
    public void Unwritable_log_directory_fails_at_attach_naming_the_option()
    {
        // A directory below a regular file can never be created, not even by root (CI runs as root).
        string file = Path.Combine(_directory, "a-file");
        File.WriteAllText(file, "x");
        using var model = Mlp.Create(depth: 2, 8, Activation.ReLU, Init.He);

        var ex = Assert.Throws<ArgumentException>(() => model.AttachGradientMonitor(o => o.Telemetry.TensorBoardLogDirectory = Path.Combine(file, "runs")));

        Assert.Equal("Telemetry.TensorBoardLogDirectory", ex.ParamName);
    }

    [Fact]
    public void Writing_histograms_leaks_no_tensors()
    {
        using var model = Mlp.Create(depth: 3, 16, Activation.Tanh, Init.Xavier);
        using var monitor = model.AttachGradientMonitor(o => (o.Telemetry.TensorBoardLogDirectory, o.Telemetry.ExportInterval) = (Path.Combine(_directory, "leak"), 1));
        using var x = randn(8, 16);
        using var output = model.call(x);
        using var loss = output.square().mean();
        loss.backward();
        // Step() without the loss: this test is about the TensorBoard writer alone.
        monitor.Step();

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            monitor.Step();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
