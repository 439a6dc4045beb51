using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Reliability;

/// <summary>Issue 9 §3: unusual models are handled. (A model with no parameters, or with all of them frozen, is rejected
/// with a clear message: see <c>AttachValidationTests</c>.) Statistics of non-float32 tensors are computed in double
/// precision on the tensor's device.</summary>
public sealed class UnusualModelTests
{
    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    internal void Non_float32_parameters_are_measured_against_a_double_reference_and_their_nan_is_caught(ScalarType dtype)
    {
        manual_seed(101);
        using var model = nn.Sequential(("a", nn.Linear(8, 8)), ("relu", nn.ReLU()), ("b", nn.Linear(8, 1)));
        model.to(dtype);
        using var monitor = model.AttachGradientMonitor();
        using var scope = NewDisposeScope();

        model.call(randn(4, 8).to(dtype)).square().mean().backward();
        double[] reference = [.. new[] { "a", "b" }.Select(name => ReferenceNorm(model, name))];
        GradientStepResult clean = monitor.Step();

        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(reference[i], clean.Layers[i].GradientNorm, 1e-9 * reference[i]);
        }

        Assert.False(clean.SkipStep);
        using (no_grad())
        {
            using var grad = model.parameters().First().grad!;
            grad.view(-1)[0].fill_(double.NaN);
        }

        GradientStepResult poisoned = monitor.Step();
        Assert.True(poisoned.SkipStep);
        Assert.Equal(1, poisoned.Layers[0].Gradient.NaNCount);
        Assert.Contains(poisoned.Alerts, a => a.Kind == GradientAlertKind.NonFinite && a.Layer == "a");
    }

    [Fact]
    public void Sparse_embedding_gradients_are_measured_like_their_dense_equivalent()
    {
        manual_seed(102);
        using var model = nn.Sequential(("embedding", nn.Embedding(20, 6, sparse: true)), ("head", nn.Linear(6, 1)));
        using var monitor = model.AttachGradientMonitor();
        using var scope = NewDisposeScope();

        model.call(tensor(new long[] { 1, 3, 3, 7 })).square().mean().backward();
        using (var grad = model.parameters().First().grad!)
        {
            Assert.True(grad.is_sparse);
        }

        double reference = ReferenceNorm(model, "embedding");
        GradientStepResult result = monitor.Step();

        Assert.Equal(reference, result.Layers[0].GradientNorm, 1e-6 * reference);
        Assert.Equal(120, result.Layers[0].Gradient.ElementCount); // the dense size: 20 × 6
        Assert.False(result.SkipStep);
    }

    [Fact]
    public void Zero_element_parameters_are_measured_as_empty_without_alerts()
    {
        manual_seed(103);
        using var model = new WithEmptyBranch();
        using var monitor = model.AttachGradientMonitor();
        using var scope = NewDisposeScope();

        model.call(randn(3, 4)).square().mean().backward();
        GradientStepResult result = monitor.Step();

        Assert.Equal(["head", "empty"], result.Layers.Select(l => l.Name));
        Assert.Equal(0, result.Layers[1].Gradient.ElementCount);
        Assert.Equal(0, result.Layers[1].GradientNorm);
        Assert.True(result.Layers[0].GradientNorm > 0);
        Assert.True(double.IsFinite(result.GlobalNorm));
        Assert.False(result.SkipStep);
        Assert.DoesNotContain(result.Alerts, a => a.Kind == GradientAlertKind.NonFinite);
    }

    [Fact]
    public void A_parameter_without_gradient_on_some_steps_has_norm_zero_and_is_measured_again_when_it_has_one()
    {
        manual_seed(104);
        using var model = nn.Sequential(("a", nn.Linear(4, 4)), ("b", nn.Linear(4, 1)));
        var a = (nn.Module<Tensor, Tensor>)model.named_children().First().module;
        using var monitor = model.AttachGradientMonitor();
        using var optimizer = optim.SGD(model.parameters(), 0.01);

        for (int step = 0; step < 6; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad(); // gradients become null
            var x = randn(2, 4);
            bool full = step % 2 == 0;
            (full ? model.call(x) : a.call(x)).square().mean().backward(); // odd steps never reach b
            GradientStepResult result = monitor.Step();

            Assert.False(result.SkipStep);
            Assert.DoesNotContain(result.Alerts, al => al.Kind == GradientAlertKind.NonFinite);
            Assert.True(result.Layers[0].GradientNorm > 0);
            if (full)
            {
                Assert.True(result.Layers[1].GradientNorm > 0);
            }
            else
            {
                Assert.Equal(0, result.Layers[1].GradientNorm);
                Assert.True(result.Layers[1].Gradient.IsFinite);
            }

            optimizer.step();
        }
    }

    /// <summary>The L2 norm of a layer's gradients over all its parameters, in double precision.</summary>
    private static double ReferenceNorm(nn.Module model, string layer)
    {
        using var scope = NewDisposeScope();
        double sum = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.StartsWith(layer + ".", StringComparison.Ordinal) && parameter.grad is Tensor grad)
            {
                var dense = grad.is_sparse ? grad.to_dense() : grad;
                sum += dense.to_type(ScalarType.Float64).square().sum().item<double>();
            }
        }

        return Math.Sqrt(sum);
    }

    /// <summary>head(x) plus the sum of a zero-width Linear(4, 0): its weight [0, 4] and bias [0] have no elements.</summary>
    private sealed class WithEmptyBranch : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> head = nn.Linear(4, 1);
        private readonly nn.Module<Tensor, Tensor> empty = nn.Linear(4, 0);

        public WithEmptyBranch()
            : base(nameof(WithEmptyBranch)) => RegisterComponents();

        public override Tensor forward(Tensor input) => head.call(input) + empty.call(input).sum();
    }
}
