using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>The device-generic path (used for CUDA and non-float32 gradients) runs here on CPU so it cannot rot.</summary>
public sealed class DeviceGenericStatisticsTests
{
    [Fact]
    public void Device_generic_path_matches_the_cpu_span_path()
    {
        manual_seed(6);
        using var model = Mlp.Create(depth: 5, 32, Activation.Tanh, Init.Xavier);
        using var fast = model.AttachGradientMonitor();
        using var generic = model.AttachGradientMonitor();
        using var x = randn(16, 32);
        using var loss = model.call(x).square().mean();
        loss.backward();
        using (var grad = model.parameters().First().grad!)
        using (var flat = grad.view(-1))
        {
            flat[0].fill_(float.NaN).Dispose();
            flat[1].fill_(float.NegativeInfinity).Dispose();
            flat[2].fill_(0).Dispose();
        }

        GradientStepResult a = fast.Step(loss);
        GradientStepResult b;
        using (DevicePathSwitch.Set())
        {
            b = generic.Step(loss);
        }

        for (int i = 0; i < a.Layers.Count; i++)
        {
            TensorStatistics x1 = a.Layers[i].Gradient, x2 = b.Layers[i].Gradient;
            Assert.Equal(x1.ElementCount, x2.ElementCount);
            Assert.Equal(x1.NaNCount, x2.NaNCount);
            Assert.Equal(x1.InfinityCount, x2.InfinityCount);
            Assert.Equal(x1.ZeroCount, x2.ZeroCount);
            // The CPU span path sums in float blocks flushed to double: within 1e-5 relative (TensorStatistics.Compute).
            Assert.Equal(x1.SumOfSquares, x2.SumOfSquares, 1e-5 * Math.Max(1, x1.SumOfSquares));
            Assert.Equal(x1.SumOfMagnitudes, x2.SumOfMagnitudes, 1e-5 * Math.Max(1, x1.SumOfMagnitudes));
            Assert.Equal(x1.MaxFiniteMagnitude, x2.MaxFiniteMagnitude, 1e-12);
        }

        Assert.Equal(1, a.Layers[0].Gradient.NaNCount);
        Assert.Equal(1, a.Layers[0].Gradient.InfinityCount);
    }

    [Fact]
    public void Device_generic_path_measures_parameters_and_probes_like_the_cpu_span_path()
    {
        // The switch is process-wide and the probes read in the forward hooks: two identical models, one run with it on.
        manual_seed(8);
        using var model = Mlp.Create(depth: 4, 16, Activation.ReLU, Init.He);
        manual_seed(8);
        using var twin = Mlp.Create(depth: 4, 16, Activation.ReLU, Init.He);
        using var fast = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var generic = twin.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var scope = NewDisposeScope();
        Tensor input = randn(8, 16);
        model.call(input).square().mean().backward();
        GradientStepResult a = fast.Step();
        GradientStepResult b;
        using (DevicePathSwitch.Set())
        {
            twin.call(input).square().mean().backward();
            b = generic.Step();
        }

        for (int i = 0; i < a.Layers.Count; i++)
        {
            TensorStatistics p1 = fast.LastObservations[i].Parameters!.Value, p2 = generic.LastObservations[i].Parameters!.Value;
            Assert.Equal(p1.ElementCount, p2.ElementCount);
            Assert.Equal(p1.SumOfSquares, p2.SumOfSquares, 1e-5 * p1.SumOfSquares); // float blocks: within 1e-5 relative
            Assert.Equal(p1.MaxFiniteMagnitude, p2.MaxFiniteMagnitude, 1e-12);
            Assert.Equal(a.Layers[i].OutputGradientNorm!.Value, b.Layers[i].OutputGradientNorm!.Value, 1e-5 * a.Layers[i].OutputGradientNorm!.Value);
            ActivationStatistics s1 = fast.LastObservations[i].Activations!, s2 = generic.LastObservations[i].Activations!;
            Assert.Equal(s1.ElementCount, s2.ElementCount);
            Assert.Equal(s1.Mean, s2.Mean, 1e-5 * Math.Sqrt(s1.Variance));
            Assert.Equal(s1.Variance, s2.Variance, 1e-5 * s1.Variance);
            Assert.Equal(s1.ZeroFraction, s2.ZeroFraction);
            Assert.Equal(s1.UnitActiveFraction.ToArray(), s2.UnitActiveFraction.ToArray());
        }
    }

    [Fact]
    public void Channel_outputs_are_probed_alike_in_place_and_on_the_device()
    {
        // Conv and BatchNorm outputs have their units (channels) in dimension 1: the in-place CPU kernels count activity
        // per contiguous run of a channel's spatial elements, the device path by transposing; they must agree.
        using var model = ChannelModel(9);
        using var twin = ChannelModel(9);
        using var fast = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var generic = twin.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var scope = NewDisposeScope();
        Tensor input = randn(4, 3, 6, 6);
        model.call(input).square().mean().backward();
        fast.Step();
        using (DevicePathSwitch.Set())
        {
            twin.call(input).square().mean().backward();
            generic.Step();
        }

        for (int i = 0; i < fast.LastObservations.Count; i++)
        {
            ActivationStatistics s1 = fast.LastObservations[i].Activations!, s2 = generic.LastObservations[i].Activations!;
            Assert.Equal(s1.ElementCount, s2.ElementCount);
            Assert.Equal(s1.Mean, s2.Mean, 1e-5 * Math.Sqrt(s1.Variance));
            Assert.Equal(s1.Variance, s2.Variance, 1e-5 * s1.Variance);
            Assert.Equal(s1.UnitActiveFraction.ToArray(), s2.UnitActiveFraction.ToArray());
            Assert.Equal(fast.LastObservations[i].OutputGradientNorm!.Value, generic.LastObservations[i].OutputGradientNorm!.Value, 1e-5 * fast.LastObservations[i].OutputGradientNorm!.Value);
        }

        Assert.Equal(5, fast.LastObservations[1].Activations!.UnitActiveFraction.Length); // bn: one fraction per channel
    }

    private static nn.Module<Tensor, Tensor> ChannelModel(int seed)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("conv", nn.Conv2d(3, 5, 3, padding: 1)), ("bn", nn.BatchNorm2d(5)), ("relu", nn.ReLU()),
            ("flatten", nn.Flatten()), ("head", nn.Linear(5 * 6 * 6, 1)));
    }

    [Fact]
    public void Large_cpu_gradients_read_on_several_cores_match_the_device_path()
    {
        // Above TensorStatisticsCollector.ParallelElements the CPU read is split in chunks across the cores libtorch
        // leaves free (the large tensor in several chunks, the small ones one each); the combined statistics must equal
        // the device path's, with NaN, Inf and zeros placed across chunk boundaries. libtorch runs on one thread here, so
        // a second core is free (the tests of this assembly run one at a time, so the setting touches no other test).
        int torchThreads = get_num_threads();
        set_num_threads(1);
        try
        {
            ReadLargeGradients(expectedReadThreads: Environment.ProcessorCount);
        }
        finally
        {
            set_num_threads(torchThreads);
        }
    }

    [Theory]
    [InlineData(1L << 19, 1, 8, 1)] // too little to read to split it
    [InlineData(1L << 20, 2, 2, 1)] // libtorch's default here: its threads cover both cores
    [InlineData(1L << 20, 1, 2, 2)] // one core free
    [InlineData(1L << 24, 4, 8, 5)] // four free cores and the calling thread
    [InlineData(1L << 24, 16, 8, 1)] // more libtorch threads than cores
    [InlineData(1L << 24, 0, 1, 1)]
    public void The_read_uses_the_calling_thread_plus_the_cores_libtorch_leaves_free(long elements, int torchThreads, int processors, int expected) =>
        Assert.Equal(expected, TensorStatisticsCollector.ReadThreads(elements, torchThreads, processors));

    [Fact]
    public void Large_cpu_gradients_are_read_on_the_calling_thread_when_libtorch_threads_cover_every_core()
    {
        int torchThreads = get_num_threads();
        set_num_threads(Environment.ProcessorCount);
        try
        {
            ReadLargeGradients(expectedReadThreads: 1);
        }
        finally
        {
            set_num_threads(torchThreads);
        }
    }

    private static void ReadLargeGradients(int expectedReadThreads)
    {
        manual_seed(10);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("fc0", nn.Linear(1024, 1024)), ("down", nn.Linear(1024, 64)) };
        for (int i = 0; i < 40; i++)
        {
            layers.Add(($"s{i}", nn.Linear(64, 64)));
        }

        using var model = nn.Sequential(layers);
        using var fast = model.AttachGradientMonitor();
        using var generic = model.AttachGradientMonitor();
        using var scope = NewDisposeScope();
        model.call(randn(32, 1024)).square().mean().backward();
        long elements = model.parameters().Sum(p => p.numel()), tensors = model.parameters().Count();
        Assert.True(elements >= TensorStatisticsCollector.ParallelElements && tensors > 80);
        using (var grad = model.parameters().First().grad!)
        using (var flat = grad.view(-1))
        {
            flat[(1 << 18) - 1].fill_(float.NaN).Dispose();
            flat[1 << 18].fill_(float.PositiveInfinity).Dispose();
            flat[(3 << 18) + 5].fill_(0).Dispose();
        }

        GradientStepResult a = fast.Step();
        GradientStepResult b;
        using (DevicePathSwitch.Set())
        {
            b = generic.Step();
        }

        for (int i = 0; i < a.Layers.Count; i++)
        {
            TensorStatistics x1 = a.Layers[i].Gradient, x2 = b.Layers[i].Gradient;
            Assert.Equal((x1.ElementCount, x1.NaNCount, x1.InfinityCount, x1.ZeroCount), (x2.ElementCount, x2.NaNCount, x2.InfinityCount, x2.ZeroCount));
            Assert.Equal(x2.SumOfSquares, x1.SumOfSquares, 1e-5 * x2.SumOfSquares);
            Assert.Equal(x2.SumOfMagnitudes, x1.SumOfMagnitudes, 1e-5 * x2.SumOfMagnitudes);
            Assert.Equal(x2.MaxFiniteMagnitude, x1.MaxFiniteMagnitude, 1e-12);
        }

        Assert.Equal((1, 1), (a.Layers[0].Gradient.NaNCount, a.Layers[0].Gradient.InfinityCount));
        Assert.Equal(expectedReadThreads, fast.Reader.LastReadThreads);
    }

    [Fact]
    public void Float64_model_is_measured_on_the_device_generic_path()
    {
        manual_seed(7);
        using var model = Mlp.Create(depth: 4, 16, Activation.ReLU, Init.He);
        model.to(ScalarType.Float64);
        using var monitor = model.AttachGradientMonitor();
        using var x = randn(8, 16, dtype: ScalarType.Float64);
        using var loss = model.call(x).square().mean();
        loss.backward();

        GradientStepResult result = monitor.Step(loss);

        // The reference, summed here in managed code from the float64 values (not by a libtorch reduction like the
        // device path's): both sums are in double, so they agree to rounding.
        double expected = Math.Sqrt(model.parameters().Sum(p => { using var g = p.grad!; return g.data<double>().ToArray().Sum(v => v * v); }));
        Assert.Equal(expected, result.GlobalNorm, 1e-12 * expected);
    }
}
