namespace GradientDiagnostics.Tests.Recovery;

/// <summary>The recovery decisions on synthetic numbers: no framework, no tensors.</summary>
public sealed class RecoveryPolicyTests
{
    private readonly List<GradientAlert> _alerts = [];

    [Fact]
    public void A_spiking_norm_is_refused_without_entering_the_reference_and_healthy_steps_are_snapshotted()
    {
        RecoveryPolicy policy = Create(o => o.SnapshotInterval = 10);
        List<long> snapshots = Healthy(policy, 0, 60);

        RecoveryDecision spike = policy.Decide(60, 1000, 1.0, skippedByMonitor: false, _alerts);
        RecoveryDecision again = policy.Decide(61, 1000, 1.0, skippedByMonitor: false, _alerts);

        Assert.Equal([0L, 10L, 20L, 30L, 40L, 50L], snapshots);
        Assert.Equal([40L, 50L], policy.SnapshotSteps); // MaxSnapshots = 2
        Assert.Equal((RecoveryAction.Refuse, RecoveryAction.Refuse), (spike.Action, again.Action)); // the first spike did not raise the bar
        Assert.True(spike.SkipsStep);
        Assert.All(_alerts, a => Assert.Equal((GradientAlertKind.Recovery, GradientAlertSeverity.Warning, GradientMetricNames.GlobalGradientNormZScore), (a.Kind, a.Severity, a.Metric)));
        Assert.Equal(RecoveryAction.None, policy.Decide(62, 1.0, 1.0, false, _alerts).Action);
    }

    [Fact]
    public void A_norm_spike_below_the_recovery_floor_is_not_refused()
    {
        RecoveryPolicy policy = Create();
        Healthy(policy, 0, 60);

        // 8× the mean: an alert for the Exploding detector (floor 5×), not enough to refuse (floor 10×).
        Assert.Equal(RecoveryAction.None, policy.Decide(60, 8, 1.0, false, _alerts).Action);
        Assert.Empty(_alerts);
    }

    [Fact]
    public void A_loss_that_stays_high_with_normal_gradients_rolls_back_to_the_newest_snapshot_then_an_older_one()
    {
        RecoveryPolicy policy = Create(o => (o.SnapshotInterval, o.RollbackAfterFailingSteps) = (10, 3));
        Healthy(policy, 0, 80);

        RecoveryDecision[] decisions = [.. Enumerable.Range(80, 6).Select(s => policy.Decide(s, 1.0, 50.0, false, _alerts))];

        Assert.Equal([RecoveryAction.None, RecoveryAction.None, RecoveryAction.RollBack, RecoveryAction.None, RecoveryAction.None, RecoveryAction.RollBack],
            decisions.Select(d => d.Action));
        Assert.Equal([70L, 60L], decisions.Where(d => d.RollBackTo is not null).Select(d => d.RollBackTo!.Value));
        Assert.Equal([60L], policy.SnapshotSteps);
        Assert.All(decisions, d => Assert.False(d.TakeSnapshot));
        Assert.Equal(2, _alerts.Count(a => a.Metric == GradientMetricNames.ConsecutiveFailingSteps));
    }

    [Fact]
    public void Persistent_non_finite_steps_roll_back_and_the_rollback_budget_gives_up_with_a_critical_alert()
    {
        RecoveryPolicy policy = Create(o => (o.SnapshotInterval, o.RollbackAfterFailingSteps, o.MaxRollbacks) = (10, 2, 1));
        Healthy(policy, 0, 30);

        RecoveryAction[] actions = [.. Enumerable.Range(30, 5).Select(s => policy.Decide(s, double.NaN, double.NaN, skippedByMonitor: true, _alerts).Action)];

        Assert.Equal([RecoveryAction.None, RecoveryAction.RollBack, RecoveryAction.None, RecoveryAction.GiveUp, RecoveryAction.None], actions);
        GradientAlert giveUp = Assert.Single(_alerts, a => a.Severity == GradientAlertSeverity.Critical);
        Assert.Equal((33L, GradientMetricNames.RollbacksInWindow), (giveUp.Step, giveUp.Metric));
        Assert.True(policy.GaveUp);
        Assert.Equal(RecoveryAction.None, policy.Decide(35, 1e6, 1.0, false, _alerts).Action); // no longer refuses
    }

    [Fact]
    public void Consecutive_refusals_without_a_snapshot_give_up_at_the_limit()
    {
        RecoveryPolicy policy = Create(o => (o.SnapshotInterval, o.RollbackAfterFailingSteps, o.MaxConsecutiveFailingSteps) = (1000, 2, 4));
        Healthy(policy, 0, 30); // one snapshot (step 0): rollbacks return to it

        RecoveryAction[] actions = [.. Enumerable.Range(30, 4).Select(s => policy.Decide(s, 1000, 1.0, false, _alerts).Action)];

        Assert.Equal([RecoveryAction.Refuse, RecoveryAction.RollBack, RecoveryAction.Refuse, RecoveryAction.GiveUp], actions);
        Assert.Equal(GradientMetricNames.ConsecutiveFailingSteps, Assert.Single(_alerts, a => a.Severity == GradientAlertSeverity.Critical).Metric);
    }

    [Fact]
    public void The_learning_rate_is_scaled_at_a_rollback_and_restored_after_the_configured_steps()
    {
        RecoveryPolicy policy = Create(o => (o.SnapshotInterval, o.RollbackAfterFailingSteps, o.LearningRateFactor, o.LearningRateFactorSteps) = (10, 1, 0.5, 3));
        Healthy(policy, 0, 30);

        RecoveryDecision rollback = policy.Decide(30, double.NaN, null, true, _alerts);
        RecoveryDecision[] after = [.. Enumerable.Range(31, 3).Select(s => policy.Decide(s, 1.0, 1.0, false, _alerts))];

        Assert.Equal(0.5, rollback.ScaleLearningRate);
        Assert.Equal([false, false, true], after.Select(d => d.RestoreLearningRate));
    }

    [Fact]
    public void A_rollback_on_the_step_a_scale_expires_sets_it_back_before_scaling_again()
    {
        RecoveryPolicy policy = Create(o => (o.SnapshotInterval, o.RollbackAfterFailingSteps, o.LearningRateFactor, o.LearningRateFactorSteps) = (10, 1, 0.5, 2));
        Healthy(policy, 0, 30);

        RecoveryDecision first = policy.Decide(30, double.NaN, null, true, _alerts);
        RecoveryDecision healthy = policy.Decide(31, 1.0, 1.0, false, _alerts);
        RecoveryDecision second = policy.Decide(32, double.NaN, null, true, _alerts);

        Assert.Equal((0.5, false), (first.ScaleLearningRate, first.RestoreLearningRate));
        Assert.False(healthy.RestoreLearningRate);
        Assert.Equal((RecoveryAction.RollBack, 0.5, true), (second.Action, second.ScaleLearningRate, second.RestoreLearningRate));
    }

    private static RecoveryPolicy Create(Action<RecoveryOptions>? configure = null)
    {
        var options = new RecoveryOptions();
        configure?.Invoke(options);
        options.Validate("Recovery");
        return new RecoveryPolicy(options, new ExplodingOptions());
    }

    /// <summary>Healthy steps with a noisy norm around 1 and a loss around 1; returns the steps to snapshot, registered.</summary>
    private List<long> Healthy(RecoveryPolicy policy, int from, int to)
    {
        var snapshots = new List<long>();
        for (int step = from; step < to; step++)
        {
            double noise = 0.1 * Math.Sin(step * 1.7);
            RecoveryDecision decision = policy.Decide(step, 1 + noise, 1 - noise, false, _alerts);
            Assert.Equal(RecoveryAction.None, decision.Action);
            if (decision.TakeSnapshot)
            {
                policy.SnapshotTaken(step);
                snapshots.Add(step);
            }
        }

        Assert.Empty(_alerts);
        return snapshots;
    }
}
