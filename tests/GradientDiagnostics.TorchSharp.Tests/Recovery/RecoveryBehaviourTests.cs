using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Recovery;

public sealed class RecoveryBehaviourTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Recovery_never_fires_on_the_clean_burst_scenario(bool adam)
    {
        BurstTraining.Outcome clean = BurstTraining.Run(new BurstTraining.Scenario(adam, BurstLength: 0), _ => { });

        Assert.DoesNotContain(clean.Alerts, a => a.Kind == GradientAlertKind.Recovery);
        Assert.DoesNotContain(clean.Results, r => r.SkipStep || r.RolledBackToStep is not null);
    }

    [Theory]
    [InlineData(Activation.ReLU, Init.He, false)]
    [InlineData(Activation.Tanh, Init.Xavier, false)]
    [InlineData(Activation.Sigmoid, Init.Xavier, true)]
    [InlineData(Activation.ReLU, Init.He, true)]
    public void Recovery_never_fires_on_healthy_training_of_the_test_suite_mlps(Activation activation, Init init, bool residual)
    {
        manual_seed(3);
        using var model = Mlp.Create(depth: 6, width: 32, activation, init, residual: residual);
        using var optimizer = optim.SGD(model.parameters(), residual ? 0.001 : 0.01, momentum: 0.9); // residual sums diverge at 0.01
        using var monitor = model.AttachGradientMonitor();
        monitor.EnableRecovery(optimizer, o => o.SnapshotInterval = 25);
        var generator = new Generator(5);
        for (int step = 0; step < 300; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor x = randn([16, 32], generator: generator);
            Tensor loss = nn.functional.mse_loss(model.call(x), x[.., ..4].sum(1, keepdim: true).sin());
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            Assert.False(result.SkipStep, $"step {step}: {string.Join(" ", result.Alerts)}");
            Assert.DoesNotContain(result.Alerts, a => a.Kind == GradientAlertKind.Recovery);
            optimizer.step();
        }
    }

    [Fact]
    public void Without_EnableRecovery_a_burst_is_applied_and_only_non_finite_steps_are_skipped()
    {
        BurstTraining.Outcome outcome = BurstTraining.Run(new BurstTraining.Scenario(), recovery: null);

        Assert.DoesNotContain(outcome.Alerts, a => a.Kind == GradientAlertKind.Recovery);
        Assert.All(outcome.Results, r =>
        {
            Assert.Null(r.RolledBackToStep);
            Assert.Equal(!double.IsFinite(r.GlobalNorm) || r.Loss is double l && !double.IsFinite(l), r.SkipStep);
        });
        Assert.Contains(outcome.Results, r => r.Step == 150 && !r.SkipStep); // the first corrupted step went through
    }

    [Fact]
    public void A_rollback_scales_the_learning_rate_for_the_configured_steps_then_sets_it_back()
    {
        var rates = new Dictionary<int, double>();
        BurstTraining.Run(new BurstTraining.Scenario(Steps: 165), o => (o.SnapshotInterval, o.RollbackAfterFailingSteps, o.LearningRateFactor, o.LearningRateFactorSteps) = (20, 2, 0.25, 5),
            (step, _, _, optimizer) => rates[step] = optimizer.ParamGroups.Single().LearningRate);

        // Rollbacks at 151 and 153: the rate is scaled once, at 151, for 5 steps counted from the last rollback.
        Assert.Equal(0.02, rates[150], 12);
        Assert.Equal(0.005, rates[151], 12);
        Assert.Equal(0.005, rates[157], 12);
        Assert.Equal(0.02, rates[158], 12);
        Assert.Equal(0.02, rates[164], 12);
    }

    [Fact]
    public void Recovery_options_are_validated_with_their_path_and_recovery_is_enabled_once()
    {
        using var model = BurstTraining.CreateModel(1);
        using var optimizer = BurstTraining.CreateOptimizer(model, adam: false);
        using var monitor = model.AttachGradientMonitor();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => monitor.EnableRecovery(optimizer, o => o.SnapshotInterval = 0));
        Assert.Equal("Recovery.SnapshotInterval", ex.ParamName);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => monitor.EnableRecovery(optimizer, o => (o.RollbackAfterFailingSteps, o.MaxConsecutiveFailingSteps) = (10, 10)));
        Assert.Equal("Recovery.RollbackAfterFailingSteps", ex.ParamName);
        Assert.Equal("Recovery.LearningRateFactor", Assert.Throws<ArgumentOutOfRangeException>(() => monitor.EnableRecovery(optimizer, o => o.LearningRateFactor = 1.5)).ParamName);
        Assert.Throws<ArgumentNullException>(() => monitor.EnableRecovery(null!));

        monitor.EnableRecovery(optimizer);
        Assert.Throws<InvalidOperationException>(() => monitor.EnableRecovery(optimizer));
    }

    [Fact]
    public void Snapshots_and_rollbacks_leave_no_live_tensors_behind()
    {
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        BurstTraining.Outcome outcome = BurstTraining.Run(new BurstTraining.Scenario(Steps: 170), o => (o.SnapshotInterval, o.RollbackAfterFailingSteps) = (10, 2));

        Assert.Contains(outcome.Results, r => r.RolledBackToStep is not null);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
