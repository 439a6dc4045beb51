using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Clipping;

/// <summary>Issue 13 §5: every clipping policy works on sparse gradients (<c>Embedding(sparse: true)</c>): <c>Step()</c>
/// never throws, and the clipped gradient equals the one the same policy gives the same model with a dense embedding.</summary>
public sealed class SparseGradientClippingTests
{
    public static TheoryData<string> Policies => ["by_global_norm", "by_global_norm_p3", "by_global_norm_inf", "by_value", "by_layer_norm", "adaptive", "auto_clip", "z_score", "skip_non_finite"];

    [Theory]
    [MemberData(nameof(Policies))]
    public void Every_policy_clips_a_sparse_embedding_gradient_as_it_clips_the_dense_one(string policy)
    {
        using var sparse = Model(sparse: true);
        using var dense = Model(sparse: false);
        CopyParameters(sparse, dense);
        using var sparseMonitor = sparse.AttachGradientMonitor(o => o.Clipping = Create(policy));
        using var denseMonitor = dense.AttachGradientMonitor(o => o.Clipping = Create(policy));
        var generator = new Generator(9);
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            // Repeated indices: the sparse gradient is uncoalesced, with several entries per embedding row.
            Tensor tokens = randint(6, [4, 5], generator: generator);
            Tensor target = randn([4, 1], generator: generator) * (step + 1);
            GradientStepResult s = Backward(sparse, sparseMonitor, tokens, target);
            GradientStepResult d = Backward(dense, denseMonitor, tokens, target);

            Tensor sparseGrad = ((nn.Module)sparse).named_parameters().Single(p => p.name == "0.weight").parameter.grad!;
            Tensor denseGrad = ((nn.Module)dense).named_parameters().Single(p => p.name == "0.weight").parameter.grad!;
            Assert.True(sparseGrad.is_sparse);
            Assert.Equal(d.ClippingActed, s.ClippingActed);
            Assert.Equal(d.NormAfterClipping ?? 0, s.NormAfterClipping ?? 0, 1e-6 * (d.NormAfterClipping ?? 0));
            // Float32 rounding only: the two backward passes sum the duplicate rows in different orders.
            double largest = denseGrad.abs().max().item<float>();
            Assert.True(allclose(sparseGrad.to_dense(), denseGrad, rtol: 1e-5, atol: 1e-6 * largest), $"step {step}: sparse and dense clipped gradients differ by {(sparseGrad.to_dense() - denseGrad).abs().max().item<float>()} (largest element {largest})");
        }
    }

    private static nn.Module<Tensor, Tensor> Model(bool sparse) => nn.Sequential(nn.Embedding(10, 8, sparse: sparse), nn.Linear(8, 1));

    /// <summary>Gives both models the same weights by copying them, not by seeding the global generator: other test
    /// classes run in parallel and draw from it between a seed and the model's initialization.</summary>
    private static void CopyParameters(nn.Module from, nn.Module to)
    {
        using var noGrad = no_grad();
        foreach (((string _, global::TorchSharp.Modules.Parameter source), (string _, global::TorchSharp.Modules.Parameter target)) in from.named_parameters().Zip(to.named_parameters()))
        {
            target.copy_(source);
        }
    }

    private static GradientStepResult Backward(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, Tensor tokens, Tensor target)
    {
        model.zero_grad();
        nn.functional.mse_loss(model.call(tokens).mean([1]), target).backward();
        GradientStepResult result = monitor.Step();
        Assert.False(result.SkipStep);
        return result;
    }

    private static GradientClipping Create(string policy) => policy switch
    {
        "by_global_norm" => GradientClipping.ByGlobalNorm(0.05),
        "by_global_norm_p3" => GradientClipping.ByGlobalNorm(0.05, normType: 3),
        "by_global_norm_inf" => GradientClipping.ByGlobalNorm(0.01, normType: double.PositiveInfinity),
        "by_value" => GradientClipping.ByValue(1e-3),
        "by_layer_norm" => GradientClipping.ByLayerNorm(0.02),
        "adaptive" => GradientClipping.Adaptive(0.01),
        "auto_clip" => GradientClipping.AutoClip(50),
        "z_score" => GradientClipping.ZScore(warmupSteps: 2, zThreshold: 0.5),
        "skip_non_finite" => GradientClipping.SkipNonFinite(),
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, null),
    };
}
