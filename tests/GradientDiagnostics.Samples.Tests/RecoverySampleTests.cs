using GradientDiagnostics.Samples.Recovery;

namespace GradientDiagnostics.Samples.Tests;

/// <summary>The Recovery sample's claim, at a small size: the burst ruins the unprotected run; with recovery the final
/// loss is that of the clean run, after refusals and a rollback.</summary>
public sealed class RecoverySampleTests
{
    [Fact]
    public void Recovery_refuses_and_rolls_back_the_burst_and_ends_near_the_clean_run()
    {
        var settings = new RecoveryDemo.Settings { Steps = 240, BurstStart = 120, BurstLength = 12, SnapshotInterval = 30 };

        (RecoveryDemo.Run clean, RecoveryDemo.Run unprotected, RecoveryDemo.Run recovered) = RecoveryDemo.Compare(settings);

        double before = unprotected.Losses[settings.BurstStart - 1];
        Assert.True(!double.IsFinite(unprotected.FinalLoss) || unprotected.FinalLoss > 5 * before, $"unprotected {unprotected.FinalLoss} vs {before} before the burst");
        Assert.InRange(recovered.FinalLoss, 0, 1.5 * clean.FinalLoss);
        Assert.Equal(11, recovered.RefusedSteps); // 120–128 refused, 129 rolls back, 130–131 refused
        (long step, long to) = Assert.Single(recovered.Rollbacks);
        Assert.Equal((129L, 90L), (step, to)); // the 10th failing step returns to the last snapshot before the burst
        Assert.Contains(recovered.Alerts, a => a.Kind == GradientAlertKind.Recovery && a.Metric == GradientMetricNames.ConsecutiveFailingSteps);
        Assert.Empty(clean.Rollbacks);
    }

    [Fact]
    public void The_resume_mode_stops_before_the_burst_resumes_from_the_checkpoint_and_equals_the_unbroken_run()
    {
        var settings = new RecoveryDemo.Settings { Steps = 240, BurstStart = 120, BurstLength = 12, SnapshotInterval = 30 };

        RecoveryDemo.Run unbroken = RecoveryDemo.Compare(settings).Recovered;
        RecoveryDemo.Run resumed = RecoveryDemo.Resumed(settings);

        Assert.Equal(90, settings.ResumeAt);
        Assert.Equal(unbroken.Losses, resumed.Losses); // bit for bit, every step's evaluation loss
        Assert.Equal(unbroken.Alerts.Select(a => (a.Kind, a.Layer, a.Step)), resumed.Alerts.Select(a => (a.Kind, a.Layer, a.Step)));
        Assert.Equal(unbroken.RefusedSteps, resumed.RefusedSteps);
        Assert.Equal([(129L, 90L)], resumed.Rollbacks); // back to the snapshot the resumed run took at its first step
    }
}
