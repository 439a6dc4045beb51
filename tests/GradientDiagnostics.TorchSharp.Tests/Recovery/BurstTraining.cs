using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Recovery;

/// <summary>
/// Trains a small ReLU MLP on a synthetic regression task (y = sin(x₁ + … + x₄)) and corrupts a burst of batches mid-run
/// (inputs multiplied by <see cref="Scenario.BurstScale"/>), with or without recovery; the same seed gives the same
/// model and the same batches, so runs differ only by the burst and by what recovery did.
/// </summary>
internal static class BurstTraining
{
    public const int Width = 8;

    public sealed record Scenario(bool Adam = false, int Steps = 260, int BurstStart = 150, int BurstLength = 5, double BurstScale = 100, int Seed = 11);

    public sealed record Outcome(List<GradientStepResult> Results, List<GradientAlert> Alerts, double FinalLoss, double PreBurstLoss);

    public static nn.Module<Tensor, Tensor> CreateModel(int seed)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("fc0", nn.Linear(Width, 32)), ("act0", nn.ReLU()),
            ("fc1", nn.Linear(32, 32)), ("act1", nn.ReLU()),
            ("head", nn.Linear(32, 1)));
    }

    public static optim.Optimizer CreateOptimizer(nn.Module model, bool adam) =>
        adam ? optim.Adam(model.parameters(), lr: 0.01) : optim.SGD(model.parameters(), 0.02, momentum: 0.9);

    /// <summary>Runs the scenario; <paramref name="recovery"/> null trains without recovery, and a burst length of 0 is the clean run.</summary>
    public static Outcome Run(Scenario scenario, Action<RecoveryOptions>? recovery, Action<int, GradientStepResult, nn.Module, optim.Optimizer>? afterStep = null)
    {
        using var model = CreateModel(scenario.Seed);
        using var optimizer = CreateOptimizer(model, scenario.Adam);
        using var monitor = model.AttachGradientMonitor();
        if (recovery is not null)
        {
            monitor.EnableRecovery(optimizer, recovery);
        }

        var alerts = new List<GradientAlert>();
        monitor.AlertRaised += (_, alert) => alerts.Add(alert);
        var results = new List<GradientStepResult>();
        var data = new Generator((ulong)scenario.Seed + 1);
        double preBurst = double.NaN;
        for (int step = 0; step < scenario.Steps; step++)
        {
            using var scope = NewDisposeScope();
            Tensor x = randn([32, Width], generator: data);
            Tensor y = x[.., ..4].sum(1, keepdim: true).sin();
            if (step == scenario.BurstStart)
            {
                preBurst = Evaluate(model);
            }

            if (IsCorrupted(scenario, step))
            {
                x = x * scenario.BurstScale;
            }

            optimizer.zero_grad();
            Tensor loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            results.Add(result);
            if (!result.SkipStep)
            {
                optimizer.step();
            }

            afterStep?.Invoke(step, result, model, optimizer);
        }

        return new Outcome(results, alerts, Evaluate(model), preBurst);
    }

    public static bool IsCorrupted(Scenario scenario, int step) => step >= scenario.BurstStart && step < scenario.BurstStart + scenario.BurstLength;

    /// <summary>The loss on a fixed clean batch of 1,024 samples.</summary>
    public static double Evaluate(nn.Module<Tensor, Tensor> model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(12345);
        Tensor x = randn([1024, Width], generator: generator);
        Tensor y = x[.., ..4].sum(1, keepdim: true).sin();
        return nn.functional.mse_loss(model.call(x), y).item<float>();
    }
}
