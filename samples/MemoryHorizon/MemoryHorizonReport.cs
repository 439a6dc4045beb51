using System.Globalization;

namespace GradientDiagnostics.Samples.MemoryHorizon;

/// <summary>Runs the four trainings and prints what they measured.</summary>
public static class MemoryHorizonReport
{
    /// <summary>The four runs, in the order printed: LSTM and tanh RNN, each default then remedied.</summary>
    public static MemoryHorizonRun.Summary[] Compare(MemoryHorizonRun.Settings settings) =>
    [
        MemoryHorizonRun.Train(lstm: true, remedy: false, settings),
        MemoryHorizonRun.Train(lstm: true, remedy: true, settings),
        MemoryHorizonRun.Train(lstm: false, remedy: false, settings),
        MemoryHorizonRun.Train(lstm: false, remedy: true, settings),
    ];

    /// <summary>Runs and prints; returns the process exit code.</summary>
    public static int Run(MemoryHorizonRun.Settings settings, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(Invariant($"Recall task: remember the value marked {RecallTask.MinLag} to {settings.SequenceLength - 1} steps before the answer; "));
        output.Write(Invariant($"{settings.Steps} Adam steps, batch {settings.BatchSize}, hidden {settings.HiddenSize}. "));
        output.WriteLine(Invariant($"Answering 0 scores {RecallTask.BaselineLoss:F3}."));
        foreach (MemoryHorizonRun.Summary run in Compare(settings))
        {
            output.WriteLine();
            output.WriteLine(run.Name);
            if (run.Remedy is GradientFlowInitializationResult remedy)
            {
                output.Write(Invariant($"  remedy: gain per step {remedy.GainPerStepBefore:F3} -> {remedy.GainPerStepAfter:F3}; "));
                output.WriteLine(string.Join("; ", remedy.RecurrentLayers));
            }

            output.WriteLine(Invariant($"  memory horizon at step 0: {Horizon(run.First)} (gain per step {run.First.GainPerStep:F3}{Timescale(run.First)})"));
            int lastMeasured = run.Losses.Count - 1 - ((run.Losses.Count - 1) % settings.ProfileInterval);
            output.WriteLine(Invariant($"  memory horizon at step {lastMeasured}: {Horizon(run.Last)} (gain per step {run.Last.GainPerStep:F3})"));
            output.WriteLine(Invariant($"  alerts: VanishingThroughTime {run.VanishingAlerts}, ExplodingThroughTime {run.ExplodingAlerts}"));
            if (run.FirstAlert is string alert)
            {
                output.WriteLine($"  first alert: {alert}");
            }

            output.Write(Invariant($"  loss: first step {run.Losses[0]:F4}, final (mean of the last tenth) {run.FinalLoss:F4} = "));
            output.WriteLine(Invariant($"{run.FinalLoss / RecallTask.BaselineLoss:F2} x answering 0"));
            output.WriteLine("  loss by tenth of the run: " + string.Join(" ", run.LossByTenth.Select(l => l.ToString("F3", CultureInfo.InvariantCulture))));
        }

        return 0;
    }

    private static string Horizon(RecurrentTimeProfile profile) => profile.MemoryHorizon is int horizon
        ? Invariant($"{horizon} of {profile.SequenceLength} steps")
        : Invariant($"the whole {profile.SequenceLength} steps");

    private static string Timescale(RecurrentTimeProfile profile) =>
        profile.ForgetTimescale is double tau ? Invariant($", forget timescale {tau:F1} steps") : string.Empty;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
