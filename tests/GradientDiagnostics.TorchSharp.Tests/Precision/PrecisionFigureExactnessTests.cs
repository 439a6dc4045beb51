using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Precision;

/// <summary>Issue 21 "The diagnostics are exact": UnderflowFraction, OverflowHeadroomBits and LostUpdateFraction equal
/// independent counts made with TorchSharp ops (and, for bit identity, on the raw bits), on the CPU read and on the
/// device-generic path.</summary>
public sealed class PrecisionFigureExactnessTests
{
    public static TheoryData<ScalarType, bool> Paths => new()
    {
        { ScalarType.Float16, false },
        { ScalarType.Float16, true },
        { ScalarType.BFloat16, false },
        { ScalarType.BFloat16, true },
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Underflow_fraction_and_overflow_headroom_equal_independent_counts(ScalarType dtype, bool deviceGeneric)
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(dtype);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(dtype);
        using var monitor = model.AttachGradientMonitor();
        using var devicePath = DevicePathSwitch.Set(deviceGeneric);
        // float16: a factor that leaves part of every layer's gradient subnormal or 0; bfloat16 has float32's range, so
        // its zeros and subnormals are planted below.
        Tensor loss = SixteenBitModels.Backward(model, input, target, dtype == ScalarType.Float16 ? 3e-3 : 1);
        if (dtype == ScalarType.BFloat16)
        {
            using var noGrad = no_grad();
            Tensor grad = model.named_parameters().First().parameter.grad!;
            grad.view(-1).narrow(0, 0, 5).fill_(0);
            grad.view(-1).narrow(0, 5, 7).fill_(1e-39); // subnormal in bfloat16 (below 2⁻¹²⁶ ≈ 1.18e-38)
        }

        GradientStepResult result = monitor.Step(loss);

        double minNormal = dtype == ScalarType.Float16 ? Math.Pow(2, -14) : Math.Pow(2, -126);
        double max = dtype == ScalarType.Float16 ? 65504 : 3.3895313892515355e38;
        bool someUnderflow = false;
        foreach (LayerGradientStatistics layer in result.Layers)
        {
            Tensor[] grads = SixteenBitModels.Gradients(model, layer.Name);
            Tensor flat = cat([.. grads.Select(g => g.reshape(-1).to(ScalarType.Float64))]);
            double expectedUnderflow = flat.abs().lt(minNormal).sum().item<long>() / (double)flat.numel();
            double expectedHeadroom = Math.Log2(max / flat.abs().max().item<double>());
            Assert.Equal(expectedUnderflow, layer.UnderflowFraction!.Value, 15);
            Assert.Equal(expectedHeadroom, layer.OverflowHeadroomBits!.Value, 12);
            Assert.Equal(dtype == ScalarType.Float16 ? NumericFormat.Float16 : NumericFormat.BFloat16, layer.ParameterFormat);
            Assert.Equal(flat.square().sum().sqrt().item<double>(), layer.GradientNorm, 1e-5 * layer.GradientNorm);
            someUnderflow |= expectedUnderflow > 0;
        }

        Assert.True(someUnderflow, "the test's gradients have no zero or subnormal element");
        Assert.True(result.Layers.Any(l => l.UnderflowFraction is > 0 and < 1), string.Join(", ", result.Layers.Select(l => $"{l.Name}: {l.UnderflowFraction}")));
    }

    [Fact]
    public void A_float32_model_has_no_precision_figures()
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(ScalarType.Float32);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(ScalarType.Float32);
        using var monitor = model.AttachGradientMonitor(o => (o.CaptureParameterUpdates, o.FullStatisticsInterval) = (true, 1));

        monitor.Step(SixteenBitModels.Backward(model, input, target));
        GradientStepResult result = monitor.Step(SixteenBitModels.Backward(model, input, target));

        Assert.All(result.Layers, l => Assert.Equal((NumericFormat.Float32, (double?)null, (double?)null, (double?)null),
            (l.ParameterFormat, l.UnderflowFraction, l.OverflowHeadroomBits, l.LostUpdateFraction)));
        Assert.All(result.Layers, l => Assert.NotNull(l.ParameterUpdateNorm));
    }

    [Theory]
    [InlineData(ScalarType.BFloat16, false)]
    [InlineData(ScalarType.BFloat16, true)]
    [InlineData(ScalarType.Float16, false)]
    public void Lost_update_fraction_equals_the_count_of_bit_identical_weights(ScalarType dtype, bool deviceGeneric)
    {
        using var scope = NewDisposeScope();
        var model = SixteenBitModels.TanhMlp(dtype);
        (Tensor input, Tensor target) = SixteenBitModels.Batch(dtype);
        using var monitor = model.AttachGradientMonitor(o => (o.CaptureParameterUpdates, o.FullStatisticsInterval) = (true, 1));
        using var devicePath = DevicePathSwitch.Set(deviceGeneric);
        // A learning rate at which some updates pass half an ulp and most do not.
        using var optimizer = optim.SGD(model.parameters(), dtype == ScalarType.BFloat16 ? 0.2 : 0.02);

        monitor.Step(SixteenBitModels.Backward(model, input, target));
        ushort[][] before = [.. model.parameters().Select(Bits)];
        optimizer.step();
        ushort[][] after = [.. model.parameters().Select(Bits)];
        GradientStepResult result = monitor.Step(SixteenBitModels.Backward(model, input, target));

        string[] names = [.. model.named_parameters().Select(p => p.name)];
        foreach (LayerGradientStatistics layer in result.Layers)
        {
            long same = 0, total = 0;
            for (int k = 0; k < names.Length; k++)
            {
                if (names[k].StartsWith(layer.Name + ".", StringComparison.Ordinal))
                {
                    same += before[k].Zip(after[k]).Count(p => p.First == p.Second);
                    total += before[k].Length;
                }
            }

            Assert.Equal(same / (double)total, layer.LostUpdateFraction!.Value, 15);
        }

        Assert.Contains(result.Layers, l => l.LostUpdateFraction is > 0 and < 1);
    }

    private static ushort[] Bits(Tensor parameter) => MemoryMarshal.Cast<byte, ushort>(parameter.detach().contiguous().bytes).ToArray();
}
