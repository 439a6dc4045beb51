using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Precision;

/// <summary>The tiny 16-bit models and batches the precision tests train: a 3-layer tanh MLP (layers "0", "2", "4"),
/// seeded, on a fixed regression batch.</summary>
internal static class SixteenBitModels
{
    public const int Inputs = 8;

    public static nn.Module<Tensor, Tensor> TanhMlp(ScalarType dtype, long seed = 7, int width = 16)
    {
        manual_seed(seed);
        var model = nn.Sequential(nn.Linear(Inputs, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1));
        return dtype == ScalarType.Float32 ? model : model.to(dtype);
    }

    public static (Tensor Input, Tensor Target) Batch(ScalarType dtype, int batch = 32, long seed = 11)
    {
        using var generator = new Generator((ulong)seed);
        Tensor input = randn([batch, Inputs], generator: generator);
        Tensor target = input.narrow(1, 0, 1).sin();
        return (input.to(dtype).DetachFromDisposeScope(), target.to(dtype).DetachFromDisposeScope());
    }

    /// <summary>One forward and backward pass of the mean squared error times <paramref name="lossFactor"/> (a factor below
    /// 1 shrinks every gradient, to make float16 underflow); returns the loss tensor for <c>Step</c>.</summary>
    public static Tensor Backward(nn.Module<Tensor, Tensor> model, Tensor input, Tensor target, double lossFactor = 1)
    {
        model.zero_grad();
        Tensor loss = nn.functional.mse_loss(model.call(input), target) * lossFactor;
        loss.backward();
        return loss;
    }

    /// <summary>The gradients of the named layer's parameters, as stored.</summary>
    public static Tensor[] Gradients(nn.Module model, string layer) =>
        [.. model.named_parameters().Where(p => p.name.StartsWith(layer + ".", StringComparison.Ordinal)).Select(p => p.parameter.grad!)];
}
