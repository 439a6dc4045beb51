using System.CommandLine;
using System.Globalization;
using GradientDiagnostics;
using GradientDiagnostics.Samples.Recovery;
using Spectre.Console;

// A burst of corrupted batches mid-run, with and without GradientMonitor.EnableRecovery. Example:
//   dotnet run --project samples/Recovery -- --steps 500 --burst-length 12 --adam
// --resume also stops the recovered run before the burst, checkpoints it (model, optimizer, monitor state), builds
// everything anew, loads it and resumes; the resumed run's losses and alerts equal the unbroken one's.
var steps = new Option<int>("--steps") { Description = "Training steps per run.", DefaultValueFactory = _ => new RecoveryDemo.Settings().Steps };
var burstStart = new Option<int>("--burst-start") { Description = "The first corrupted step.", DefaultValueFactory = _ => new RecoveryDemo.Settings().BurstStart };
var burstLength = new Option<int>("--burst-length") { Description = "Corrupted batches in a row (10 or more also shows a rollback).", DefaultValueFactory = _ => new RecoveryDemo.Settings().BurstLength };
var burstScale = new Option<double>("--burst-scale") { Description = "The factor the corrupted inputs are multiplied by.", DefaultValueFactory = _ => new RecoveryDemo.Settings().BurstScale };
var adam = new Option<bool>("--adam") { Description = "Train with Adam instead of SGD with momentum." };
var resume = new Option<bool>("--resume") { Description = "Also stop the recovered run halfway (before the burst), checkpoint it and resume it." };

var root = new RootCommand("Refuses and rolls back a burst of corrupted batches with GradientDiagnostics' recovery.") { steps, burstStart, burstLength, burstScale, adam, resume };
root.SetAction(parse =>
{
    var settings = new RecoveryDemo.Settings
    {
        Steps = parse.GetValue(steps),
        BurstStart = parse.GetValue(burstStart),
        BurstLength = parse.GetValue(burstLength),
        BurstScale = parse.GetValue(burstScale),
        Adam = parse.GetValue(adam),
    };
    if (settings.Steps < 2 || settings.BurstStart < 0 || settings.BurstLength < 0 || settings.BurstStart >= settings.Steps)
    {
        AnsiConsole.MarkupLine("[red]Steps must be ≥ 2, and the burst must start inside the run.[/]");
        return 2;
    }

    return RecoveryConsole.Show(settings, AnsiConsole.Console, parse.GetValue(resume));
});
return root.Parse(args).Invoke();

/// <summary>Prints the runs: the alerts of the recovered run, the loss curves side by side and a summary.</summary>
internal static class RecoveryConsole
{
    public static int Show(RecoveryDemo.Settings settings, IAnsiConsole console, bool resume = false)
    {
        (RecoveryDemo.Run clean, RecoveryDemo.Run unprotected, RecoveryDemo.Run recovered) = RecoveryDemo.Compare(settings);
        console.Write(new Rule($"{(settings.Adam ? "Adam" : "SGD + momentum")}: {settings.BurstLength} batches ×{settings.BurstScale:G3} from step {settings.BurstStart}"));
        foreach (GradientAlert alert in recovered.Alerts.Where(a => a.Kind == GradientAlertKind.Recovery))
        {
            string color = alert.Severity == GradientAlertSeverity.Critical ? "red" : "yellow";
            console.MarkupLineInterpolated($"[{color}]step {alert.Step}[/] {alert.Message}");
        }

        var curves = new Table().Title("evaluation loss (1,024 clean samples)");
        foreach (string column in new[] { "step", clean.Name, unprotected.Name, recovered.Name })
        {
            curves.AddColumn(new TableColumn(column).RightAligned());
        }

        int every = Math.Max(1, settings.Steps / 20);
        for (int step = 0; step < settings.Steps; step++)
        {
            bool inBurst = step >= settings.BurstStart - 1 && step < settings.BurstStart + settings.BurstLength + 1;
            if (step % every == 0 || step == settings.Steps - 1 || inBurst)
            {
                curves.AddRow(step.ToString(CultureInfo.InvariantCulture), F(clean.Losses[step]), F(unprotected.Losses[step]), F(recovered.Losses[step]));
            }
        }

        console.Write(curves);
        var summary = new Table().AddColumns("run", "final loss", "refused steps", "rollbacks", "Exploding / NonFinite alerts");
        foreach (RecoveryDemo.Run run in new[] { clean, unprotected, recovered })
        {
            summary.AddRow(run.Name, F(run.FinalLoss), run.RefusedSteps.ToString(CultureInfo.InvariantCulture),
                string.Join(", ", run.Rollbacks.Select(r => $"{r.Step} → {r.To}")),
                run.Alerts.Count(a => a.Kind != GradientAlertKind.Recovery).ToString(CultureInfo.InvariantCulture));
        }

        console.Write(summary);
        return resume ? ShowResumed(settings, recovered, console) : 0;
    }

    /// <summary>Trains the recovered run stopped and resumed, and says whether it equals the unbroken one.</summary>
    private static int ShowResumed(RecoveryDemo.Settings settings, RecoveryDemo.Run unbroken, IAnsiConsole console)
    {
        RecoveryDemo.Run resumed = RecoveryDemo.Resumed(settings);
        bool losses = resumed.Losses.SequenceEqual(unbroken.Losses);
        bool alerts = resumed.Alerts.Select(a => (a.Kind, a.Layer, a.Step)).SequenceEqual(unbroken.Alerts.Select(a => (a.Kind, a.Layer, a.Step)));
        bool rollbacks = resumed.Rollbacks.SequenceEqual(unbroken.Rollbacks);
        console.MarkupLineInterpolated(
            $"{resumed.Name}: final loss {F(resumed.FinalLoss)}; every loss {(losses ? "equals" : "differs from")} the unbroken run's, the alerts {(alerts ? "equal" : "differ")}, the rollbacks {(rollbacks ? "equal" : "differ")}.");
        return losses && alerts && rollbacks ? 0 : 1;
    }

    private static string F(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
