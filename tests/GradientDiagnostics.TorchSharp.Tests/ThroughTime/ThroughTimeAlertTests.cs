using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.ThroughTime;

/// <summary>The through-time alerts on real recurrent models: a default-initialized tanh RNN forgets within a few steps,
/// a ReLU RNN with W_hh = 1.2·I explodes, and healthy sequence models stay quiet for 2,000 steps.</summary>
public sealed class ThroughTimeAlertTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Default_initialized_tanh_rnn_on_60_steps_raises_vanishing_through_time_naming_a_horizon_under_15(bool native)
    {
        manual_seed(41);
        using nn.Module<Tensor, Tensor> model = native ? new FusedRegressor(nn.RNN(8, 64)) : new CellLoop(nn.RNNCell(8, 64));
        using var monitor = model.AttachGradientMonitor(o => o.ThroughTime.Interval = 1);
        var alerts = new List<GradientAlert>();
        RecurrentTimeProfile? profile = null;
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            Tensor x = randn(60, 4, 8);
            Tensor loss = (model.call(x)[59].sum(1) - x[0].sum(1)).square().mean();
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            profile = result.TimeProfiles[0];
            alerts.AddRange(result.Alerts.Where(a => a.Kind == GradientAlertKind.VanishingThroughTime));
        }

        GradientAlert alert = Assert.Single(alerts);
        output.WriteLine(alert.ToString());
        Assert.NotNull(profile!.MemoryHorizon);
        Assert.InRange(profile.MemoryHorizon!.Value, 1, 14);
        Assert.Equal(GradientMetricNames.MemoryHorizonShare, alert.Metric);
        Assert.Equal(profile.MemoryHorizon!.Value / 60.0, alert.Value, 1e-12); // the share of the profile's horizon
        Assert.Contains($"{profile.MemoryHorizon} of its 60 steps", alert.Message, StringComparison.Ordinal);
        Assert.Contains("largest singular value", alert.Message, StringComparison.Ordinal);
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.InitializeForGradientFlow);
        Assert.Equal(GradientLogEvents.VanishingThroughTime, 1000 + (int)alert.Kind);
    }

    [Fact]
    public void Relu_rnn_with_recurrent_weight_1_2_identity_on_positive_inputs_raises_exploding_through_time()
    {
        manual_seed(42);
        using var model = new FusedRegressor(nn.RNN(16, 16, nonLinearity: nn.NonLinearities.ReLU));
        RecurrentWeights.ScaledIdentity(model, 1.2);
        using var monitor = model.AttachGradientMonitor(o => o.ThroughTime.Interval = 1);
        using var scope = NewDisposeScope();
        Tensor loss = model.call(rand(60, 4, 16))[59].mean();
        loss.backward();

        GradientStepResult result = monitor.Step(loss);

        RecurrentTimeProfile profile = Assert.Single(result.TimeProfiles);
        GradientAlert alert = Assert.Single(result.Alerts, a => a.Kind == GradientAlertKind.ExplodingThroughTime);
        output.WriteLine(alert.ToString());
        Assert.Equal("RNN_RELU", profile.Unit);
        Assert.Equal(1.2, profile.GainPerStep, 1e-3);
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.ClipByGlobalNorm);
        Assert.Contains(alert.Fixes, f => f.Id == GradientAlertFix.InitializeForGradientFlow);
        Assert.Equal(GradientLogEvents.ExplodingThroughTime, 1000 + (int)alert.Kind);
    }

    [Fact]
    public void Two_thousand_healthy_steps_of_an_lstm_on_short_sequences_and_an_orthogonal_rnn_raise_no_through_time_alert()
    {
        manual_seed(43);
        using var lstm = new FusedRegressor(nn.LSTM(4, 16));
        using var rnn = new FusedRegressor(nn.RNN(4, 32));
        using (no_grad())
        {
            nn.init.orthogonal_(rnn.parameters().First(p => p.shape[0] == 32 && p.shape.Length == 2 && p.shape[1] == 32));
        }

        var models = new (FusedRegressor Model, int Length, GradientMonitor Monitor, optim.Optimizer Optimizer, List<RecurrentTimeProfile> Profiles)[]
        {
            (lstm, 5, lstm.AttachGradientMonitor(o => o.ThroughTime.Interval = 20), optim.Adam(lstm.parameters(), 1e-3), []),
            (rnn, 30, rnn.AttachGradientMonitor(o => o.ThroughTime.Interval = 20), optim.SGD(rnn.parameters(), 1e-3), []),
        };
        var alerts = new List<GradientAlert>();
        for (int step = 0; step < 2000; step++)
        {
            foreach ((FusedRegressor model, int length, GradientMonitor monitor, optim.Optimizer optimizer, List<RecurrentTimeProfile> profiles) in models)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                Tensor x = randn(new long[] { length, 8, 4 });
                // Recall the first input's sum at the last step: a dependency across the whole sequence.
                Tensor loss = (model.call(x)[length - 1].mean([1]) - x[0].sum(1) / 4).square().mean();
                loss.backward();
                GradientStepResult result = monitor.Step(loss);
                profiles.AddRange(result.TimeProfiles);
                alerts.AddRange(result.Alerts.Where(a => a.Kind is GradientAlertKind.VanishingThroughTime or GradientAlertKind.ExplodingThroughTime));
                optimizer.step();
            }
        }

        foreach ((FusedRegressor _, int length, GradientMonitor monitor, optim.Optimizer optimizer, List<RecurrentTimeProfile> profiles) in models)
        {
            output.WriteLine($"{profiles[0].Unit} over {length} steps: {profiles.Count} profiles, gain {profiles.Min(p => p.GainPerStep):G3}–{profiles.Max(p => p.GainPerStep):G3}, "
                + $"horizon {string.Join("/", profiles.Select(p => p.MemoryHorizon?.ToString() ?? "-").Distinct().Take(8))}");
            Assert.Equal(100, profiles.Count);
            Assert.All(profiles, p => Assert.True(p.Measured, p.NotMeasuredReason));
            monitor.Dispose();
            optimizer.Dispose();
        }

        Assert.Empty(alerts);
    }
}
