using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Clipping;

/// <summary>
/// AGC on the device path (forced on the CPU by UseDevicePathOnCpu): the factor is computed in place from Scalar
/// arguments only (no tensor made from a C# number, so no host operand to copy to the device), it equals the
/// <c>where</c> form bit for bit, and a step with AGC creates a bounded number of tensors per parameter tensor.
/// </summary>
public sealed class UnitWiseClippingDeviceTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Mask_free_factor_equals_the_where_form_bit_for_bit_and_creates_no_tensor(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        const double clipping = 0.01, epsilon = 1e-3;
        // Weight norms and gradient norms around every boundary: M exactly, one ulp either side of M, below the floor,
        // zero, +∞ on either side, NaN on either side.
        double[] w = [0.5, 0.5, 0.5, 2e-4, 0, 3.0, double.PositiveInfinity, 1.0, double.NaN, 1.0, 1e-9];
        Tensor weightNorm = tensor(w, dtype);
        // M for the first three units, as the dtype rounds it, and its neighbours in that dtype.
        double m = tensor(0.5, dtype).mul(clipping).to_type(ScalarType.Float64).item<double>();
        (double above, double below) = dtype == ScalarType.Float32
            ? (MathF.BitIncrement((float)m), MathF.BitDecrement((float)m))
            : (Math.BitIncrement(m), Math.BitDecrement(m));
        double[] g = [m, above, below, 5e-7, 0, 10, 4, double.PositiveInfinity, 1, double.NaN, 1e-7];
        Tensor gradNorm = tensor(g, dtype);
        Tensor reference = WhereForm(weightNorm, gradNorm, clipping, epsilon);

        Tensor w2 = weightNorm.clone(), g2 = gradNorm.clone();
        long before = Created();
        Tensor factor = UnitWiseClipping.ClipFactor(w2, g2, clipping, epsilon);
        long created = Created() - before;

        Assert.Equal(0, created);
        Assert.Same(w2, factor);
        Assert.Equal(Bits(reference), Bits(factor));
        Assert.True(Bits(factor)[0] == BitConverter.DoubleToInt64Bits(1.0) && Bits(factor)[1] != Bits(factor)[0], "the factor must switch exactly at ‖G‖ = M");
    }

    [Fact]
    public void Below_twice_the_floor_the_factor_keeps_its_mask_and_the_where_form()
    {
        using var scope = NewDisposeScope();
        // λ·ε = 1e-8: M is below the floor, where min(M / max(‖G‖, floor), 1) would scale units with ‖G‖ ≤ M.
        const double clipping = 1e-5, epsilon = 1e-3;
        Tensor weightNorm = tensor(new float[] { 0, 0, 0, 1 });
        Tensor gradNorm = tensor(new float[] { 5e-9f, 2e-8f, 1e-5f, 0 });
        Tensor reference = WhereForm(weightNorm, gradNorm, clipping, epsilon);

        long before = Created();
        Tensor factor = UnitWiseClipping.ClipFactor(weightNorm.clone(), gradNorm.clone(), clipping, epsilon);
        long created = Created() - before;

        Assert.Equal(Bits(reference), Bits(factor));
        Assert.Equal(BitConverter.DoubleToInt64Bits(1.0), Bits(factor)[0]);
        // The two clones and the mask: still no tensor made from a C# number.
        Assert.Equal(3, created);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void An_adaptive_step_on_the_device_path_adds_a_bounded_number_of_tensors_per_parameter_tensor(ScalarType dtype)
    {
        // 40 Linear(8, 8) (80 parameter tensors): the same model and loss with no clipping, then with AGC acting (the default
        // λ = 0.01 and ε = 1e-3, so the factor needs no mask).
        using var scope = NewDisposeScope();
        manual_seed(5);
        var model = nn.Sequential(Enumerable.Range(0, 40).Select(i => ($"fc{i}", (nn.Module<Tensor, Tensor>)nn.Linear(8, 8))).ToList());
        model.to(dtype);
        Tensor input = randn(4, 8, dtype: dtype);
        using var devicePath = DevicePathSwitch.Set();
        long plain = CreatedPerStep(model, input, clipping: null, out _);
        long adaptive = CreatedPerStep(model, input, GradientClipping.Adaptive(), out GradientStepResult result);

        Assert.True(result.ClippingActed);
        Assert.True(result.NormAfterClipping < result.NormBeforeClipping);
        // Per parameter tensor: the unit norms of the weight and of the gradient (the factor and the multiply are in
        // place), then the clipped gradients measured again through the wrappers held since the step's read (the read's
        // results only, no p.grad wrapper). No mask and no tensor made from a C# number.
        const int tensors = 80;
        int perTensor = 2 + DeviceReduction.NormFields;
        Assert.True(adaptive - plain <= perTensor * tensors + 16, $"AGC added {adaptive - plain} tensors for {tensors} parameter tensors");
    }

    private static long CreatedPerStep(nn.Module<Tensor, Tensor> model, Tensor input, GradientClipping? clipping, out GradientStepResult result)
    {
        using var monitor = model.AttachGradientMonitor(o =>
        {
            o.FullStatisticsInterval = 1000;
            o.Clipping = clipping;
        });
        long created = 0;
        result = default!;
        for (int step = 0; step < 3; step++)
        {
            model.zero_grad();
            using (var d = NewDisposeScope())
            {
                model.call(input).square().sum().mul(1e4).backward();
            }

            long before = Created();
            result = monitor.Step();
            created = Created() - before;
        }

        return created;
    }

    /// <summary>The reference: where(‖G‖ &gt; M, M / max(‖G‖, floor), 1), with M = λ·max(‖W‖, ε).</summary>
    private static Tensor WhereForm(Tensor weightNorm, Tensor gradNorm, double clipping, double epsilon)
    {
        Tensor maxNorm = weightNorm.clamp_min(epsilon).mul(clipping);
        Tensor ratio = maxNorm.div(gradNorm.clamp_min(GradientClipping.AdaptiveGradientNormFloor));
        return where(gradNorm.gt(maxNorm), ratio, ones_like(ratio));
    }

    private static long[] Bits(Tensor values) =>
        [.. values.to_type(ScalarType.Float64).data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits)];

    private static long Created()
    {
        var statistics = DisposeScopeManager.Statistics.TensorStatistics;
        return statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
    }
}
