using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Samples.MemoryHorizon;

/// <summary>Trains one model on the recall task under the gradient monitor, as initialized by TorchSharp or after
/// <c>InitializeForGradientFlow</c>, and keeps what it measured.</summary>
public static class MemoryHorizonRun
{
    /// <summary>The sample's sizes; the defaults run in tens of seconds on 2 CPU cores.</summary>
    public sealed class Settings
    {
        /// <summary>Time steps per sequence (the marked value is 40 to T − 1 steps before the answer).</summary>
        public int SequenceLength { get; init; } = 50;

        /// <summary>Hidden units of the recurrent layer.</summary>
        public int HiddenSize { get; init; } = 32;

        /// <summary>Training steps per run.</summary>
        public int Steps { get; init; } = 200;

        /// <summary>Sequences per batch.</summary>
        public int BatchSize { get; init; } = 32;

        /// <summary>Adam's learning rate, the same for every run.</summary>
        public double LearningRate { get; init; } = 3e-3;

        /// <summary>The seed of the initialization and of the data, the same for every run.</summary>
        public int Seed { get; init; } = 1;

        /// <summary>Time profiles are measured every this many steps, from step 0.</summary>
        public int ProfileInterval { get; init; } = 25;
    }

    /// <summary>What one run measured.</summary>
    /// <param name="Name">The run's name.</param>
    /// <param name="Remedy">The remedy's result; null for the default initialization.</param>
    /// <param name="Losses">The training loss at each step.</param>
    /// <param name="First">The time profile at step 0.</param>
    /// <param name="Last">The last measured time profile.</param>
    /// <param name="VanishingAlerts">VanishingThroughTime alerts raised.</param>
    /// <param name="ExplodingAlerts">ExplodingThroughTime alerts raised.</param>
    /// <param name="FirstAlert">The first through-time alert's message; null when none.</param>
    public sealed record Summary(string Name, GradientFlowInitializationResult? Remedy, IReadOnlyList<double> Losses, RecurrentTimeProfile First,
        RecurrentTimeProfile Last, int VanishingAlerts, int ExplodingAlerts, string? FirstAlert)
    {
        /// <summary>The mean loss over the last tenth of the steps.</summary>
        public double FinalLoss => Losses.Skip(Losses.Count * 9 / 10).Average();

        /// <summary>The mean loss over each tenth of the steps (fewer when there are fewer than ten steps).</summary>
        public IReadOnlyList<double> LossByTenth =>
            [.. Enumerable.Range(0, 10).Select(k => Losses.Skip(Losses.Count * k / 10).Take((Losses.Count * (k + 1) / 10) - (Losses.Count * k / 10)))
                .Where(part => part.Any()).Select(part => part.Average())];
    }

    /// <summary>Trains one model.</summary>
    /// <param name="lstm">An LSTM (true) or a tanh RNN (false).</param>
    /// <param name="remedy">Whether to run <c>InitializeForGradientFlow</c> before training.</param>
    /// <param name="settings">The sizes.</param>
    public static Summary Train(bool lstm, bool remedy, Settings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        manual_seed(settings.Seed);
        using var model = new RecallModel(lstm, settings.HiddenSize);
        using var data = new Generator((ulong)settings.Seed + 1);
        GradientFlowInitializationResult? result = null;
        if (remedy)
        {
            // The remedy's own batch, from another stream than the training data.
            using var probe = new Generator((ulong)settings.Seed + 2);
            (Tensor input, _) = RecallTask.Batch(settings.SequenceLength, settings.BatchSize, probe);
            result = model.InitializeForGradientFlow(() => model.call(input));
        }

        using var optimizer = optim.Adam(model.parameters(), settings.LearningRate);
        using var monitor = model.AttachGradientMonitor(o =>
        {
            o.ThroughTime.Interval = settings.ProfileInterval;
            // Clipping as every recurrent run should have it (Pascanu et al. 2013), the same for all four runs.
            o.Clipping = GradientClipping.ByGlobalNorm(1);
        });
        var losses = new List<double>(settings.Steps);
        var profiles = new List<RecurrentTimeProfile>();
        var alerts = new List<GradientAlert>();
        for (int step = 0; step < settings.Steps; step++)
        {
            using var scope = NewDisposeScope();
            (Tensor x, Tensor y) = RecallTask.Batch(settings.SequenceLength, settings.BatchSize, data);
            optimizer.zero_grad();
            Tensor loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            GradientStepResult measured = monitor.Step(loss);
            profiles.AddRange(measured.TimeProfiles.Where(p => p.Measured));
            alerts.AddRange(measured.Alerts.Where(a => a.Kind is GradientAlertKind.VanishingThroughTime or GradientAlertKind.ExplodingThroughTime));
            if (!measured.SkipStep)
            {
                optimizer.step();
            }

            losses.Add(loss.item<float>());
        }

        string name = $"{(lstm ? "LSTM" : "tanh RNN")}, {(remedy ? "InitializeForGradientFlow" : "default init")}";
        return new Summary(name, result, losses, profiles[0], profiles[^1],
            alerts.Count(a => a.Kind == GradientAlertKind.VanishingThroughTime), alerts.Count(a => a.Kind == GradientAlertKind.ExplodingThroughTime),
            alerts.FirstOrDefault()?.Message);
    }
}
