using GradientDiagnostics.TorchSharp.Tests.Models;
using GradientDiagnostics.TorchSharp.Tests.ThroughTime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Preflight;

/// <summary>The preflight reports the time profiles, so the horizon is known before step 1.</summary>
public sealed class TimeProfilePreflightTests(ITestOutputHelper output)
{
    [Fact]
    public void Check_gradient_flow_reports_the_horizon_of_a_default_tanh_rnn_and_finds_it_vanishing_through_time()
    {
        manual_seed(61);
        using var model = new FusedRegressor(nn.RNN(8, 64));
        using var x = randn(60, 4, 8);

        GradientFlowCheckResult check = model.CheckGradientFlow(() => model.call(x)[59].square().mean());

        RecurrentTimeProfile profile = Assert.Single(check.TimeProfiles);
        output.WriteLine($"gain {profile.GainPerStep:G3}, horizon {profile.MemoryHorizon} of {profile.SequenceLength}");
        Assert.True(profile.Measured, profile.NotMeasuredReason);
        Assert.InRange(profile.MemoryHorizon!.Value, 1, 14);
        Assert.Contains(check.Findings, f => f.Kind == GradientAlertKind.VanishingThroughTime);
    }

    [Fact]
    public void Check_gradient_flow_measures_no_time_profile_when_through_time_is_disabled()
    {
        manual_seed(62);
        using var model = new FusedRegressor(nn.LSTM(8, 16));
        using var x = randn(20, 4, 8);

        GradientFlowCheckResult check = model.CheckGradientFlow(() => model.call(x).square().mean(), o => o.ThroughTime.Enabled = false);

        Assert.Empty(check.TimeProfiles);
    }
}
