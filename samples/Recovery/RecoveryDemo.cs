using GradientDiagnostics.TorchSharp;
using TorchSharp.Modules;
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

        /// <summary>Where <see cref="Resumed"/> stops and resumes: the last multiple of <see cref="SnapshotInterval"/> at or
        /// before halfway and before the burst, as a job that checkpoints every <see cref="SnapshotInterval"/> steps would,
        /// so the resumed run's first snapshot is taken where the unbroken run took one.</summary>
        public int ResumeAt => Math.Min(Steps / 2, BurstStart - 1) / SnapshotInterval * SnapshotInterval;
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

    /// <summary>The recovered run again, stopped at <see cref="Settings.ResumeAt"/>: the model (<c>Module.save</c>), the
    /// optimizer (<c>save_state_dict</c>) and the monitor (<see cref="GradientMonitor.SaveState(string)"/>) are saved, everything
    /// is built anew and loaded, and training goes on. Its losses and alerts equal the unbroken recovered run's.</summary>
    public static Run Resumed(Settings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        string checkpoint = Directory.CreateTempSubdirectory("gd-recovery-checkpoint-").FullName;
        try
        {
            var log = new Log();
            Train(settings, recovery: true, 0, settings.ResumeAt, load: null, save: checkpoint, log);
            Train(settings, recovery: true, settings.ResumeAt, settings.Steps, load: checkpoint, save: null, log);
            return log.ToRun($"burst, resumed at step {settings.ResumeAt}");
        }
        finally
        {
            Directory.Delete(checkpoint, recursive: true);
        }
    }

    private static Run Train(string name, Settings settings, bool recovery)
    {
        var log = new Log();
        Train(settings, recovery, 0, settings.Steps, load: null, save: null, log);
        return log.ToRun(name);
    }

    private static void Train(Settings settings, bool recovery, int from, int to, string? load, string? save, Log log)
    {
        manual_seed(settings.Seed);
        using var model = nn.Sequential(
            ("fc0", nn.Linear(Inputs, 32)), ("act0", nn.ReLU()),
            ("fc1", nn.Linear(32, 32)), ("act1", nn.ReLU()),
            ("head", nn.Linear(32, 1)));
        using optim.Optimizer optimizer = settings.Adam ? optim.Adam(model.parameters(), lr: 0.01) : optim.SGD(model.parameters(), 0.02, momentum: 0.9);
        if (load is not null)
        {
            model.load(Path.Combine(load, "model.bin"));
            ((OptimizerHelper)optimizer).load_state_dict(Path.Combine(load, "optimizer.bin"));
        }

        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.NonFinite.TraceOrigin = true);
        if (recovery)
        {
            monitor.EnableRecovery(optimizer, o => o.SnapshotInterval = settings.SnapshotInterval);
        }

        if (load is not null)
        {
            monitor.LoadState(Path.Combine(load, "monitor.json")); // after EnableRecovery: the ledger and references resume
        }

        monitor.AlertRaised += (_, alert) =>
        {
            if (alert.Kind is GradientAlertKind.Recovery or GradientAlertKind.Exploding or GradientAlertKind.NonFinite)
            {
                log.Alerts.Add(alert);
            }
        };
        var data = new Generator((ulong)settings.Seed + 1);
        for (int seen = 0; seen < from; seen++)
        {
            randn([32, Inputs], generator: data).Dispose(); // a resumed data loader skips the batches already trained on
        }

        using Tensor evalX = randn([1024, Inputs], generator: new Generator(12345));
        using Tensor evalY = evalX[.., ..4].sum(1, keepdim: true).sin();
        for (int step = from; step < to; step++)
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
            if (result.RolledBackToStep is long target)
            {
                log.Rollbacks.Add((result.Step, target));
            }
            else if (result.SkipStep && double.IsFinite(result.GlobalNorm))
            {
                log.Refused++;
            }

            if (!result.SkipStep)
            {
                optimizer.step();
            }

            using (no_grad())
            {
                log.Losses.Add(nn.functional.mse_loss(model.call(evalX), evalY).item<float>());
            }
        }

        if (save is not null)
        {
            model.save(Path.Combine(save, "model.bin"));
            ((OptimizerHelper)optimizer).save_state_dict(Path.Combine(save, "optimizer.bin"));
            monitor.SaveState(Path.Combine(save, "monitor.json"));
        }
    }

    /// <summary>What a run records, across the segments of a resumed run.</summary>
    private sealed class Log
    {
        public List<double> Losses { get; } = [];

        public List<GradientAlert> Alerts { get; } = [];

        public List<(long Step, long To)> Rollbacks { get; } = [];

        public int Refused { get; set; }

        public Run ToRun(string name) => new(name, Losses, Alerts, Refused, Rollbacks);
    }
}
