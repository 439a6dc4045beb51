using System.Runtime.InteropServices;
using GradientDiagnostics.TorchSharp.Tests.Models;
using GradientDiagnostics.TorchSharp.Tests.Precision;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>
/// The device path (CUDA gradients, and CPU ones under the AppContext switch UseDevicePathOnCpu) against references
/// summed here in managed code from each gradient's values widened to float64, per layer: the same statistics on finite
/// steps, exact NaN / ±Infinity / zero counts on non-finite ones, a second read only then, and a bounded number of
/// tensors per step.
/// </summary>
public sealed class DevicePathTests
{
    /// <summary>Every dtype, finite and not, with the CPU kernels (|g| in the reused buffer, <c>sum</c>, <c>amax</c>) and
    /// with the accelerator kernels CUDA takes (<c>vector_norm</c> with ord 1 and ∞).</summary>
    public static TheoryData<ScalarType, bool, bool> Cases
    {
        get
        {
            var cases = new TheoryData<ScalarType, bool, bool>();
            foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16 })
            {
                foreach ((bool nonFinite, bool acceleratorKernels) in new[] { (false, false), (true, false), (false, true), (true, true) })
                {
                    cases.Add(dtype, nonFinite, acceleratorKernels);
                }
            }

            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Device_path_statistics_equal_the_managed_sums_of_the_same_gradients(ScalarType dtype, bool nonFinite, bool acceleratorKernels)
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(dtype);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(dtype);
        using var managed = model.AttachGradientMonitor();
        using var device = model.AttachGradientMonitor();
        Tensor loss = SixteenBitModels.Backward(model, input, target);
        using (no_grad())
        {
            Tensor flat = model.parameters().First().grad!.view(-1);
            flat.narrow(0, 0, 3).fill_(0);
            if (nonFinite)
            {
                flat[3].fill_(double.NaN);
                flat[4].fill_(double.PositiveInfinity);
                flat[5].fill_(double.NegativeInfinity);
            }
        }

        TensorStatistics[] expected = ReferencePerLayer(model);
        GradientStepResult viaManaged = managed.Step(loss);
        GradientStepResult viaDevice;
        using (DevicePathSwitch.Set())
        {
            DeviceReduction.AcceleratorKernelsOnCpu = acceleratorKernels;
            try
            {
                viaDevice = device.Step(loss);
            }
            finally
            {
                DeviceReduction.AcceleratorKernelsOnCpu = false;
            }
        }

        Assert.Equal(nonFinite ? 1 : 0, device.Reader.LastExactReads);
        Assert.Equal(expected.Length, viaDevice.Layers.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            AssertSame(expected[i], viaDevice.Layers[i].Gradient, exactCounts: true);
            AssertSame(viaManaged.Layers[i].Gradient, viaDevice.Layers[i].Gradient, exactCounts: true);
            Assert.Equal(viaManaged.Layers[i].UnderflowFraction, viaDevice.Layers[i].UnderflowFraction);
            Assert.Equal(viaManaged.Layers[i].OverflowHeadroomBits, viaDevice.Layers[i].OverflowHeadroomBits);
        }

        Assert.Equal(viaManaged.SkipStep, viaDevice.SkipStep);
        Assert.Equal(viaManaged.Alerts.Select(a => (a.Kind, a.Layer)), viaDevice.Alerts.Select(a => (a.Kind, a.Layer)));
        Assert.Equal(nonFinite, viaDevice.Alerts.Any(a => a.Kind == GradientAlertKind.NonFinite));
    }

    [Fact]
    public void Cheap_steps_read_the_sums_without_counting_zeros_and_full_steps_count_them()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var model = Mlp.Create(depth: 3, width: 16, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o => o.FullStatisticsInterval = 2);
        using var devicePath = DevicePathSwitch.Set();
        var results = new List<GradientStepResult>();
        for (int step = 0; step < 2; step++)
        {
            model.zero_grad();
            model.call(randn(8, 16)).square().mean().backward();
            using (no_grad())
            {
                model.parameters().First().grad!.view(-1).narrow(0, 0, 7).fill_(0);
            }

            TensorStatistics[] expected = ReferencePerLayer(model);
            results.Add(monitor.Step());
            for (int i = 0; i < expected.Length; i++)
            {
                AssertSame(expected[i], results[^1].Layers[i].Gradient, exactCounts: results[^1].Kind == GradientStepKind.Full);
            }
        }

        Assert.Equal([GradientStepKind.Full, GradientStepKind.Cheap], results.Select(r => r.Kind));
        Assert.True(results[0].Layers[0].Gradient.ZeroCount >= 7);
        Assert.Equal(0, results[1].Layers[0].Gradient.ZeroCount); // not counted on a cheap step
    }

    [Fact]
    public void A_finite_gradient_whose_squares_overflow_float32_is_read_again_exactly()
    {
        // ‖g‖₂ of 1e30-sized float32 values overflows float32 (Σg² > 3.4e38) although every element is finite: the
        // second read sums in float64, as the managed read does.
        using var scope = NewDisposeScope();
        manual_seed(4);
        var model = Mlp.Create(depth: 2, width: 8, Activation.Tanh, Init.Xavier);
        using var managed = model.AttachGradientMonitor();
        using var device = model.AttachGradientMonitor();
        model.call(randn(4, 8)).square().mean().backward();
        using (no_grad())
        {
            model.parameters().First().grad!.mul_(1e30);
        }

        GradientStepResult a = managed.Step();
        GradientStepResult b;
        using (DevicePathSwitch.Set())
        {
            b = device.Step();
        }

        Assert.Equal(1, device.Reader.LastExactReads);
        Assert.True(double.IsFinite(b.GlobalNorm) && b.GlobalNorm > 1e20, $"{b.GlobalNorm}");
        for (int i = 0; i < a.Layers.Count; i++)
        {
            AssertSame(a.Layers[i].Gradient, b.Layers[i].Gradient, exactCounts: true);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32, false)]
    [InlineData(ScalarType.Float64, false)]
    [InlineData(ScalarType.Float32, true)]
    [InlineData(ScalarType.Float16, false)]
    [InlineData(ScalarType.BFloat16, false)]
    public void A_cheap_device_step_creates_a_bounded_number_of_tensors_per_parameter_tensor(ScalarType dtype, bool adaptive)
    {
        // 40 small layers (80 parameter tensors) so the per-tensor cost dominates; ByGlobalNorm acting, or AGC.
        using var scope = NewDisposeScope();
        var modules = Enumerable.Range(0, 40).Select(i => ($"fc{i}", (nn.Module<Tensor, Tensor>)nn.Linear(8, 8))).ToList();
        var model = nn.Sequential(modules);
        model.to(dtype);
        using var monitor = model.AttachGradientMonitor(o =>
        {
            o.FullStatisticsInterval = 1000;
            o.Clipping = adaptive ? GradientClipping.Adaptive(0.01) : GradientClipping.ByGlobalNorm(1e-6);
        });
        using var devicePath = DevicePathSwitch.Set();
        long created = 0;
        for (int step = 0; step < 3; step++)
        {
            model.zero_grad();
            model.call(randn(4, 8, dtype: dtype)).square().sum().backward();
            long before = Created();
            GradientStepResult result = monitor.Step();
            created = Created() - before;
            Assert.True(result.ClippingActed);
        }

        // Per parameter tensor: the p.grad wrapper TorchSharp makes on every read, and ‖g‖₂, ‖g‖₁ and max|g| (the reused
        // buffer adds none; a 16-bit gradient's ‖g‖₁ comes with its normal-or-larger count in one two-row reduction). With
        // AGC, from its second step the read takes three per unit instead, the weight's unit norms among them (rows kept per
        // parameter, made on the second step), AGC's factor is computed in place, and the clipped gradients' statistics
        // come from the kept rows, scaled in place. Nothing else grows with the tensors.
        const int tensors = 80, perTensor = 4;
        Assert.True(created <= perTensor * tensors + 16, $"{created} tensors created for {tensors} parameter tensors");
    }

    [Fact]
    public void A_float64_model_on_the_cpu_is_read_in_place_with_the_managed_sums()
    {
        // float64 takes the span read (the faster path, docs/performance.md): no tensor beyond the p.grad wrapper per
        // parameter tensor, and the same statistics as the device path and the float64 reference.
        using var scope = NewDisposeScope();
        manual_seed(5);
        var modules = Enumerable.Range(0, 20).Select(i => ($"fc{i}", (nn.Module<Tensor, Tensor>)nn.Linear(64, 64))).ToList();
        var model = nn.Sequential(modules);
        model.to(ScalarType.Float64);
        using var managed = model.AttachGradientMonitor(o => o.FullStatisticsInterval = 1000);
        using var device = model.AttachGradientMonitor(o => o.FullStatisticsInterval = 1000);
        model.call(randn(16, 64, dtype: ScalarType.Float64)).square().mean().backward();
        TensorStatistics[] expected = ReferencePerLayer(model);
        managed.Step();
        long before = Created();
        GradientStepResult viaManaged = managed.Step();
        long created = Created() - before;
        GradientStepResult viaDevice;
        using (DevicePathSwitch.Set())
        {
            device.Step();
            viaDevice = device.Step();
        }

        Assert.True(created <= 40 + 16, $"{created} tensors created for 40 parameter tensors");
        for (int i = 0; i < expected.Length; i++)
        {
            AssertSame(expected[i], viaManaged.Layers[i].Gradient, exactCounts: true);
            AssertSame(viaManaged.Layers[i].Gradient, viaDevice.Layers[i].Gradient, exactCounts: false);
        }
    }

    private static long Created()
    {
        var statistics = DisposeScopeManager.Statistics.TensorStatistics;
        return statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
    }

    /// <summary>Per layer (the parameters of one module), the statistics of its gradients widened to float64 and summed in
    /// managed code (the exact scalar kernel).</summary>
    internal static TensorStatistics[] ReferencePerLayer(nn.Module model)
    {
        var layers = new List<TensorStatistics>();
        string? current = null;
        foreach ((string name, var parameter) in model.named_parameters())
        {
            using Tensor grad = parameter.grad!;
            using Tensor wide = grad.to_type(ScalarType.Float64).contiguous();
            TensorStatistics statistics = TensorStatistics.Compute(MemoryMarshal.Cast<byte, double>(wide.bytes));
            string module = name[..name.LastIndexOf('.')];
            if (module == current)
            {
                layers[^1] = TensorStatistics.Combine(layers[^1], statistics);
            }
            else
            {
                layers.Add(statistics);
                current = module;
            }
        }

        return [.. layers];
    }

    internal static void AssertSame(TensorStatistics expected, TensorStatistics actual, bool exactCounts)
    {
        Assert.Equal(expected.ElementCount, actual.ElementCount);
        Assert.Equal(expected.SumOfSquares, actual.SumOfSquares, 1e-6 * expected.SumOfSquares);
        Assert.Equal(expected.SumOfMagnitudes, actual.SumOfMagnitudes, 1e-6 * expected.SumOfMagnitudes);
        Assert.Equal(expected.MaxFiniteMagnitude, actual.MaxFiniteMagnitude, 1e-7 * expected.MaxFiniteMagnitude);
        Assert.Equal((expected.NaNCount, expected.InfinityCount), (actual.NaNCount, actual.InfinityCount));
        if (exactCounts)
        {
            Assert.Equal(expected.ZeroCount, actual.ZeroCount);
        }
    }
}
