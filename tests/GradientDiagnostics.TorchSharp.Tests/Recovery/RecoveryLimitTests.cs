namespace GradientDiagnostics.TorchSharp.Tests.Recovery;

public sealed class RecoveryLimitTests
{
    // A stream that stays corrupted: every batch from step 150 on is scaled by 100.
    private static readonly BurstTraining.Scenario Endless = new(Steps: 175, BurstLength: 1000);

    [Fact]
    public void Recovery_gives_up_with_a_critical_alert_after_the_allowed_rollbacks()
    {
        BurstTraining.Outcome outcome = BurstTraining.Run(Endless, o => (o.SnapshotInterval, o.RollbackAfterFailingSteps, o.MaxRollbacks) = (20, 3, 2));

        Assert.Equal([152L, 155L], outcome.Results.Where(r => r.RolledBackToStep is not null).Select(r => r.Step));
        GradientAlert giveUp = Assert.Single(outcome.Alerts, a => a.Kind == GradientAlertKind.Recovery && a.Severity == GradientAlertSeverity.Critical);
        Assert.Equal((158L, GradientMetricNames.RollbacksInWindow, 3.0), (giveUp.Step, giveUp.Metric, giveUp.Value));
        Assert.Contains("gives up", giveUp.Message, StringComparison.Ordinal);
        AssertRecoveryStopped(outcome, giveUp.Step);
    }

    [Fact]
    public void Recovery_gives_up_with_a_critical_alert_after_too_many_consecutive_failing_steps()
    {
        BurstTraining.Outcome outcome = BurstTraining.Run(Endless, o => (o.SnapshotInterval, o.RollbackAfterFailingSteps, o.MaxConsecutiveFailingSteps) = (20, 4, 6));

        Assert.Equal([153L], outcome.Results.Where(r => r.RolledBackToStep is not null).Select(r => r.Step));
        GradientAlert giveUp = Assert.Single(outcome.Alerts, a => a.Kind == GradientAlertKind.Recovery && a.Severity == GradientAlertSeverity.Critical);
        Assert.Equal((155L, GradientMetricNames.ConsecutiveFailingSteps, 6.0), (giveUp.Step, giveUp.Metric, giveUp.Value));
        AssertRecoveryStopped(outcome, giveUp.Step);
    }

    /// <summary>From the give-up step on, recovery neither refuses nor rolls back nor alerts: finite steps are applied.</summary>
    private static void AssertRecoveryStopped(BurstTraining.Outcome outcome, long giveUpStep)
    {
        foreach (GradientStepResult result in outcome.Results.Where(r => r.Step >= giveUpStep))
        {
            Assert.Null(result.RolledBackToStep);
            Assert.Equal(!double.IsFinite(result.GlobalNorm) || result.Loss is double l && !double.IsFinite(l), result.SkipStep);
            Assert.DoesNotContain(result.Alerts, a => a.Kind == GradientAlertKind.Recovery && a.Step > giveUpStep);
        }
    }
}
