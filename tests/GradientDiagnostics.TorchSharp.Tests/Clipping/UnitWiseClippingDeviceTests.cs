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
        Assert.Equal(Bits(gradNorm), Bits(g2));
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
        // The two clones, the mask and the clamped gradient norms (the norms themselves are never changed): still no
        // tensor made from a C# number.
        Assert.Equal(4, created);
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
        // Per parameter tensor, nothing: from AGC's second step the read takes, per unit, ‖W_u‖ and ‖G_u‖ in one reduction
        // (the weight and |g| side by side in the reused buffer), then ‖u‖₁ and max|u|: three tensors, as many as the plain
        // read's ‖g‖₂, ‖g‖₁ and max|g|, copied into rows kept per parameter (made on AGC's second step, before the one
        // measured). The factor and the multiply are in place, and the clipped gradients' statistics come from the rows,
        // scaled in place: no second read, no mask and no tensor made from a C# number.
        const int tensors = 80;
        Assert.True(adaptive - plain <= 16, $"AGC added {adaptive - plain} tensors for {tensors} parameter tensors");
        Assert.True(adaptive <= 4 * tensors + 16, $"an AGC step created {adaptive} tensors for {tensors} parameter tensors");
    }

    /// <summary>Each chain on an MLP; AGC alone also on a small CNN (4-D weights: a unit is an output filter).</summary>
    public static TheoryData<string, bool> Chains => new()
    {
        { "agc", false }, { "norm-then-agc", false }, { "agc-then-norm", false }, { "value-then-agc", false }, { "agc", true },
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void AGC_through_the_reads_unit_norms_clips_and_reports_as_the_managed_path_and_leaks_nothing(string chain, bool convolutional)
    {
        // Two copies of one model; each step the same batch through both, one monitored on the managed path, the other on
        // the device path, whose read keeps unit norms from AGC's second step on. A global-norm scaling before AGC must
        // scale the kept norms, one after it must see AGC's result, and a clamp must make them be read again.
        GradientClipping Clipping() => chain switch
        {
            "agc" => GradientClipping.Adaptive(0.01),
            "norm-then-agc" => GradientClipping.ByGlobalNorm(0.5).Then(GradientClipping.Adaptive(0.01)),
            "agc-then-norm" => GradientClipping.Adaptive(0.01).Then(GradientClipping.ByGlobalNorm(1e-3)),
            _ => GradientClipping.ByValue(1e-3).Then(GradientClipping.Adaptive(0.01)),
        };
        nn.Module<Tensor, Tensor> Model()
        {
            manual_seed(21);
            return convolutional
                ? nn.Sequential(("conv1", nn.Conv2d(3, 8, 3)), ("act1", nn.Tanh()), ("conv2", nn.Conv2d(8, 4, 3)), ("flat", nn.Flatten()),
                    ("head", nn.Linear(4 * 4 * 4, 5)))
                : Models.Mlp.Create(depth: 5, width: 24, Models.Activation.Tanh, Models.Init.Xavier);
        }

        Tensor Input() => convolutional ? randn(16, 3, 8, 8) : randn(16, 24);

        using var managedModel = Model();
        using var deviceModel = Model();
        using var managed = managedModel.AttachGradientMonitor(o => o.Clipping = Clipping());
        using var device = deviceModel.AttachGradientMonitor(o => o.Clipping = Clipping());
        long live = 0;
        int layers = 0;
        for (int step = 0; step < 5; step++)
        {
            // From step 2 on nothing more stays alive: the unit norms' rows (kept per parameter) are made at step 1, AGC's
            // second step, the first whose read takes them.
            live = step == 2 ? DisposeScopeManager.Statistics.ThreadTotalLiveCount : live;
            manual_seed(100 + step);
            using Tensor x = Input();
            GradientStepResult expected = StepOn(managedModel, managed, x, devicePath: false);
            GradientStepResult actual = StepOn(deviceModel, device, x, devicePath: true);

            layers = actual.Layers.Count;
            Assert.True(expected.ClippingActed, "the test must make clipping act");
            Assert.Equal(expected.ClippingActed, actual.ClippingActed);
            AssertClose(expected.NormBeforeClipping!.Value, actual.NormBeforeClipping!.Value);
            AssertClose(expected.NormAfterClipping!.Value, actual.NormAfterClipping!.Value);
            for (int i = 0; i < expected.Layers.Count; i++)
            {
                AssertClose(expected.Layers[i].GradientNormAfterClipping!.Value, actual.Layers[i].GradientNormAfterClipping!.Value);
            }

            foreach ((var p, var q) in managedModel.parameters().Zip(deviceModel.parameters()))
            {
                using var comparison = NewDisposeScope();
                Tensor g = p.grad!, h = q.grad!;
                Tensor diff = (g - h).abs().max(), scale = g.abs().max();
                Assert.True(diff.item<float>() <= 1e-5 * scale.item<float>(), $"step {step}: max |diff| {diff.item<float>()} vs max |g| {scale.item<float>()}");
            }
        }

        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        // Every gradient (a weight and a bias per layer) is read unit by unit once AGC has run.
        using Tensor probe = Input();
        Assert.Equal(2 * layers, UnitsHeldAfterTheRead(deviceModel, device, layers, probe));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_gradient_read_unit_by_unit_reports_the_reference_statistics_finite_or_not(bool nonFinite)
    {
        // AGC on the device path, full statistics every third step: from the second step the read takes unit norms (Σ|u|
        // in place, max|u| and ‖u‖₂ per unit). The fourth step is a full one, with zeros in the first gradient and, in
        // one case, NaN and ±∞: its statistics must be the reference's, counts exact, and only a non-finite step may read
        // again.
        using var scope = NewDisposeScope();
        manual_seed(8);
        var model = Models.Mlp.Create(depth: 3, width: 16, Models.Activation.Tanh, Models.Init.Xavier);
        using var monitor = model.AttachGradientMonitor(o =>
        {
            o.FullStatisticsInterval = 3;
            o.Clipping = GradientClipping.Adaptive(0.01);
        });
        using var devicePath = DevicePathSwitch.Set();
        GradientStepResult result = null!;
        TensorStatistics[] expected = [];
        for (int step = 0; step < 4; step++)
        {
            model.zero_grad();
            using (var d = NewDisposeScope())
            {
                model.call(randn(8, 16)).square().mean().mul(1e3).backward();
            }

            if (step == 3)
            {
                Assert.True(monitor.Reader.ReadsUnitNorms, "the read must take unit norms by now");
                using var noGrad = no_grad();
                using Tensor grad = model.parameters().First().grad!;
                using Tensor flat = grad.view(-1);
                flat.narrow(0, 0, 5).fill_(0);
                if (nonFinite)
                {
                    flat[5].fill_(double.NaN);
                    flat[6].fill_(double.PositiveInfinity);
                    flat[7].fill_(double.NegativeInfinity);
                }
            }

            expected = DevicePathTests.ReferencePerLayer(model);
            result = monitor.Step();
        }

        Assert.Equal(GradientStepKind.Full, result.Kind);
        Assert.Equal(nonFinite ? 1 : 0, monitor.Reader.LastExactReads);
        Assert.Equal(expected.Length, result.Layers.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            DevicePathTests.AssertSame(expected[i], result.Layers[i].Gradient, exactCounts: true);
        }

        Assert.True(result.Layers[0].Gradient.ZeroCount >= 5);
        Assert.Equal(nonFinite, result.SkipStep);
    }

    private static GradientStepResult StepOn(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, Tensor x, bool devicePath)
    {
        model.zero_grad();
        using (var scope = NewDisposeScope())
        {
            model.call(x).square().mean().mul(1e3).backward();
        }

        using var path = DevicePathSwitch.Set(devicePath);
        return monitor.Step();
    }

    /// <summary>How many gradients of one more step's read keep their unit norms up to the clipping stage.</summary>
    private static int UnitsHeldAfterTheRead(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, int layers, Tensor x)
    {
        model.zero_grad();
        using (var scope = NewDisposeScope())
        {
            model.call(x).square().mean().backward();
        }

        using var path = DevicePathSwitch.Set();
        using var scope2 = NewDisposeScope();
        var transfer = new HostTransfer();
        monitor.Reader.Queue(transfer, holdGradients: true);
        int held = 0;
        for (int i = 0; i < layers; i++)
        {
            for (int k = 0; k < 2; k++)
            {
                held += monitor.Reader.Units(i, k) is null ? 0 : 1;
            }
        }

        monitor.Reader.Complete(transfer.Fetch());
        monitor.Reader.ReleaseGradients();
        return held;
    }

    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Abs(expected), $"{actual} vs {expected}");

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
