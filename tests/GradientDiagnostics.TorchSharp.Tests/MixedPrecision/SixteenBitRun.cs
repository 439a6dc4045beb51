using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.MixedPrecision;

/// <summary>How a run trains: plain fp32, the model cast to 16 bits and trained as it is, or 16 bits with fp32 masters.</summary>
internal enum Training { Float32, Naive, Masters }

/// <summary>
/// A small tanh MLP regression, built from its own <see cref="Generator"/> (weights and data), so runs with the same seed
/// start from the same weights and see the same batches whatever else draws from TorchSharp's default generator.
/// </summary>
internal static class SixteenBitRun
{
    public const int Inputs = 16;

    public static nn.Module<Tensor, Tensor> Model(long seed, int width = 32)
    {
        using var generator = new Generator((ulong)seed);
        var model = nn.Sequential(
            ("fc0", nn.Linear(Inputs, width)), ("act0", nn.Tanh()),
            ("fc1", nn.Linear(width, width)), ("act1", nn.Tanh()),
            ("head", nn.Linear(width, 1)));
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            long fanIn = p.dim() > 1 ? p.shape[1] : p.shape[0];
            using Tensor init = randn(p.shape, generator: generator).mul_(name.EndsWith("bias", StringComparison.Ordinal) ? 0.1 : 1 / Math.Sqrt(fanIn));
            p.copy_(init);
        }

        return model;
    }

    /// <summary>A fixed batch: inputs and a smooth target of them.</summary>
    public static (Tensor X, Tensor Y) Data(long seed, int batch = 64)
    {
        using var generator = new Generator((ulong)seed + 1000);
        Tensor x = randn([batch, Inputs], generator: generator);
        Tensor y = x[.., ..4].sum(1, keepdim: true).mul(0.5).sin();
        return (x, y);
    }

    /// <summary>Trains with Adam and returns the unscaled losses (fp32, per step) and whether any weight was ever
    /// non-finite. <paramref name="lossFactor"/> multiplies the loss given to backward (a tiny factor makes the gradients
    /// underflow float16); the reported loss is the plain MSE.</summary>
    public static (double[] Losses, bool NonFiniteWeight, List<GradientStepResult> Results) Train(
        Training training, ScalarType dtype, int steps, long seed = 5, double lr = 1e-2, double lossFactor = 1,
        Action<MixedPrecisionOptions>? mixed = null, Action<GradientMonitorOptions>? monitorOptions = null, double eps = 1e-8)
    {
        using var model = Model(seed);
        if (training != Training.Float32)
        {
            model.to(dtype);
        }

        (Tensor x, Tensor y) = Data(seed);
        using (x)
        using (y)
        using (GradientMonitor monitor = model.AttachGradientMonitor(monitorOptions))
        {
            MixedPrecisionTraining? mp = training == Training.Masters ? monitor.EnableMixedPrecision(mixed) : null;
            using var optimizer = optim.Adam(mp is null ? model.parameters() : mp.MasterParameters, lr, eps: eps);
            using Tensor input = training == Training.Float32 ? x.alias() : x.to_type(dtype);
            var losses = new double[steps];
            var results = new List<GradientStepResult>();
            bool nonFinite = false;
            for (int step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                Tensor loss = nn.functional.mse_loss(model.call(input).to_type(ScalarType.Float32), y);
                losses[step] = loss.item<float>();
                Tensor objective = loss * lossFactor;
                (mp is null ? objective : mp.ScaleLoss(objective)).backward();
                GradientStepResult result = monitor.Step(loss);
                results.Add(result);
                if (!result.SkipStep)
                {
                    if (mp is null)
                    {
                        optimizer.step();
                    }
                    else
                    {
                        mp.Step(optimizer);
                    }
                }

                nonFinite |= model.parameters().Any(p => !isfinite(p).all().item<bool>());
            }

            return (losses, nonFinite, results);
        }
    }

    /// <summary>The mean of the last few losses: the end of a run, less noisy than its last step.</summary>
    public static double Final(double[] losses) => losses.TakeLast(5).Average();
}
