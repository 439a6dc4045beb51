using global::TorchSharp;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Samples.MixedPrecision;

/// <summary>One training run's record: the loss and the loss scale per step, the first step with a non-finite weight, the skipped steps and the alerts.</summary>
public sealed record Run(string Name, double[] Losses, double[] Scales, long? NonFiniteAtStep, int Skipped, List<GradientAlert> Alerts);

/// <summary>Trains the sample's MLP one way; every run starts from the same weights (its own generator) and sees the same data.</summary>
public static class MixedPrecisionDemo
{
    private const int Inputs = 16, Width = 64, Batch = 128;

    public static Run Train(string name, ScalarType dtype, bool masters, bool adam, int steps)
    {
        using var model = Model(seed: 7);
        model.to(dtype);
        using var generator = new Generator(8);
        using Tensor x = randn([Batch, Inputs], generator: generator);
        using Tensor y = x[.., ..4].sum(1, keepdim: true).mul(0.5).sin();
        using Tensor input = x.to_type(dtype);
        var alerts = new List<GradientAlert>();
        // Parameter updates are captured (a copy of the weights at full-statistics steps) so the Precision detector can
        // measure the fraction of 16-bit weights a step left unchanged.
        using GradientMonitor monitor = model.AttachGradientMonitor(o =>
        {
            o.Clipping = GradientClipping.ByGlobalNorm(1.0);
            o.CaptureParameterUpdates = true;
        });
        monitor.AlertRaised += (_, alert) => alerts.Add(alert);
        MixedPrecisionTraining? mp = masters ? monitor.EnableMixedPrecision() : null;
        IEnumerable<global::TorchSharp.Modules.Parameter> trained = mp?.MasterParameters ?? model.parameters();
        using optim.Optimizer optimizer = adam ? optim.Adam(trained, 1e-3) : optim.SGD(trained, 0.02);
        var losses = new double[steps];
        var scales = new double[steps];
        long? nonFiniteAt = null;
        int skipped = 0;
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = nn.functional.mse_loss(model.call(input).to_type(ScalarType.Float32), y);
            losses[step] = loss.item<float>();
            (mp is null ? loss : mp.ScaleLoss(loss)).backward();
            GradientStepResult result = monitor.Step(loss);
            scales[step] = result.LossScale;
            if (result.SkipStep)
            {
                skipped++;
            }
            else if (mp is null)
            {
                optimizer.step();
            }
            else
            {
                mp.Step(optimizer);
            }

            if (nonFiniteAt is null && model.parameters().Any(p => !isfinite(p).all().item<bool>()))
            {
                nonFiniteAt = step;
            }
        }

        return new Run(name, losses, scales, nonFiniteAt, skipped, alerts);
    }

    private static nn.Module<Tensor, Tensor> Model(long seed)
    {
        using var generator = new Generator((ulong)seed);
        var model = nn.Sequential(
            ("fc0", nn.Linear(Inputs, Width)), ("act0", nn.Tanh()),
            ("fc1", nn.Linear(Width, Width)), ("act1", nn.Tanh()),
            ("head", nn.Linear(Width, 1)));
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            double std = name.EndsWith("bias", StringComparison.Ordinal) ? 0.1 : 1 / Math.Sqrt(p.shape[^1]);
            using Tensor init = randn(p.shape, generator: generator).mul_(std);
            p.copy_(init);
        }

        return model;
    }
}
