using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Samples.Recovery;

/// <summary>
/// Trains a small ReLU MLP on a regression task (y = sin(x₁ + … + x₄)) three times from the same seed: on clean data, and
/// with a burst of corrupted batches mid-run (inputs scaled by <see cref="Settings.BurstScale"/>), once without recovery
/// and once with <see cref="GradientMonitor.EnableRecovery"/>.
/// </summary>
public static class RecoveryDemo
{
    private const int Inputs = 8;

    /// <summary>The sample's sizes; the defaults run in seconds on 2 CPU cores.</summary>
    public sealed record Settings
    {
        /// <summary>Training steps per run.</summary>
        public int Steps { get; init; } = 500;

        /// <summary>The first corrupted step.</summary>
        public int BurstStart { get; init; } = 250;

        /// <summary>The number of corrupted batches in a row.</summary>
        public int BurstLength { get; init; } = 12;

        /// <summary>The factor the corrupted batches' inputs are multiplied by.</summary>
        public double BurstScale { get; init; } = 100;

        /// <summary>Adam instead of SGD with momentum 0.9.</summary>
        public bool Adam { get; init; }

        /// <summary><see cref="RecoveryOptions.SnapshotInterval"/> of the recovered run.</summary>
        public int SnapshotInterval { get; init; } = 50;

        /// <summary>The seed of the initialisation and of the data, the same for every run.</summary>
        public int Seed { get; init; } = 11;
    }

    /// <summary>What one run produced.</summary>
    /// <param name="Name">The run's name.</param>
    /// <param name="Losses">The loss on a fixed clean evaluation batch after each step.</param>
    /// <param name="Alerts">The Recovery, Exploding and NonFinite alerts raised.</param>
    /// <param name="RefusedSteps">Steps refused by recovery (SkipStep on a finite step without a rollback).</param>
    /// <param name="Rollbacks">(step, snapshot step) of each rollback.</param>
    public sealed record Run(string Name, IReadOnlyList<double> Losses, IReadOnlyList<GradientAlert> Alerts, int RefusedSteps, IReadOnlyList<(long Step, long To)> Rollbacks)
    {
        /// <summary>The evaluation loss after the last step.</summary>
        public double FinalLoss => Losses[^1];
    }

    /// <summary>Runs the clean, unprotected and recovered trainings.</summary>
    public static (Run Clean, Run Unprotected, Run Recovered) Compare(Settings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return (Train("clean data", settings with { BurstLength = 0 }, recovery: false),
            Train("burst, no recovery", settings, recovery: false),
            Train("burst, EnableRecovery", settings, recovery: true));
    }

    private static Run Train(string name, Settings settings, bool recovery)
    {
        manual_seed(settings.Seed);
        using var model = nn.Sequential(
            ("fc0", nn.Linear(Inputs, 32)), ("act0", nn.ReLU()),
            ("fc1", nn.Linear(32, 32)), ("act1", nn.ReLU()),
            ("head", nn.Linear(32, 1)));
        using optim.Optimizer optimizer = settings.Adam ? optim.Adam(model.parameters(), lr: 0.01) : optim.SGD(model.parameters(), 0.02, momentum: 0.9);
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.NonFinite.TraceOrigin = true);
        if (recovery)
        {
            monitor.EnableRecovery(optimizer, o => o.SnapshotInterval = settings.SnapshotInterval);
        }

        var alerts = new List<GradientAlert>();
        monitor.AlertRaised += (_, alert) =>
        {
            if (alert.Kind is GradientAlertKind.Recovery or GradientAlertKind.Exploding or GradientAlertKind.NonFinite)
            {
                alerts.Add(alert);
            }
        };
        var losses = new List<double>();
        var rollbacks = new List<(long, long)>();
        int refused = 0;
        var data = new Generator((ulong)settings.Seed + 1);
        using Tensor evalX = randn([1024, Inputs], generator: new Generator(12345));
        using Tensor evalY = evalX[.., ..4].sum(1, keepdim: true).sin();
        for (int step = 0; step < settings.Steps; step++)
        {
            using var scope = NewDisposeScope();
            Tensor x = randn([32, Inputs], generator: data);
            Tensor y = x[.., ..4].sum(1, keepdim: true).sin();
            if (step >= settings.BurstStart && step < settings.BurstStart + settings.BurstLength)
            {
                x = x * settings.BurstScale; // a corrupted batch: wrong units, a broken loader, an outlier shard
            }

            optimizer.zero_grad();
            Tensor loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            if (result.RolledBackToStep is long to)
            {
                rollbacks.Add((result.Step, to));
            }
            else if (result.SkipStep && double.IsFinite(result.GlobalNorm))
            {
                refused++;
            }

            if (!result.SkipStep)
            {
                optimizer.step();
            }

            using (no_grad())
            {
                losses.Add(nn.functional.mse_loss(model.call(evalX), evalY).item<float>());
            }
        }

        return new Run(name, losses, alerts, refused, rollbacks);
    }
}
