using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Initialization;

/// <summary><c>InitializeForGradientFlow</c> on recurrent models, proved by the gain the monitor measures and by the
/// hand-written reference on a batch the remedy never saw.</summary>
public sealed class RecurrentInitializationTests(ITestOutputHelper output)
{
    private const int Length = 60;

    [Fact]
    public void After_the_remedy_a_default_tanh_rnns_measured_gain_per_step_is_within_10_percent_of_1()
    {
        manual_seed(21);
        using var model = new RecurrentRegressor(RecurrentKind.RNN, 8, 64);
        using var x = randn(Length, 16, 8);
        using var other = randn(Length, 16, 8);
        nn.Module rnn = model.named_children().Single(c => c.name == "recurrent").module;
        double referenceBefore = RecurrentReference.Gain(RecurrentReference.Norms(RecurrentKind.RNN, rnn, other));
        RecurrentTimeProfile monitoredBefore = MonitoredProfile(model, other);

        GradientFlowInitializationResult result = model.InitializeForGradientFlow(() => model.call(x));

        double referenceAfter = RecurrentReference.Gain(RecurrentReference.Norms(RecurrentKind.RNN, rnn, other));
        RecurrentTimeProfile monitored = MonitoredProfile(model, other);
        output.WriteLine($"gain {result.GainPerStepBefore:F3} -> {result.GainPerStepAfter:F3}; reference {referenceBefore:F3} -> {referenceAfter:F3}; "
            + $"monitor {monitoredBefore.GainPerStep:F3} -> {monitored.GainPerStep:F3}, "
            + $"horizon {monitoredBefore.MemoryHorizon} -> {monitored.MemoryHorizon?.ToString() ?? "whole sequence"}");
        output.WriteLine(result.Message);
        Assert.InRange(result.GainPerStepBefore!.Value, 0.4, 0.7);
        Assert.InRange(result.GainPerStepAfter!.Value, 0.9, 1.1);
        Assert.InRange(monitored.GainPerStep, 0.9, 1.1);
        Assert.InRange(monitoredBefore.MemoryHorizon!.Value, 1, 15);
        Assert.InRange(referenceAfter, 0.9, 1.1); // loss at the last step only, other data: the same conclusion
        Assert.Contains("'recurrent' (tanh RNN)", result.Message, StringComparison.Ordinal);
        Assert.Contains("orthogonal W_hh", result.Message, StringComparison.Ordinal);
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Theory]
    [InlineData(RecurrentKind.LSTM)]
    [InlineData(RecurrentKind.GRU)]
    public void After_the_remedy_a_default_gated_layers_horizon_reaches_the_sequence_length(RecurrentKind kind)
    {
        manual_seed(22);
        using var model = new RecurrentRegressor(kind, 8, 64);
        using var x = randn(Length, 16, 8);
        RecurrentTimeProfile before = MonitoredProfile(model, x);

        GradientFlowInitializationResult result = model.InitializeForGradientFlow(() => model.call(x));

        RecurrentTimeProfile after = MonitoredProfile(model, x);
        RecurrentTimeProfile everyStep = MonitoredProfile(model, x, everyStep: true);
        output.WriteLine($"{kind}: loss at every step: horizon {everyStep.MemoryHorizon}, gain {everyStep.GainPerStep:F3}");
        output.WriteLine($"{kind}: horizon {before.MemoryHorizon} -> {after.MemoryHorizon?.ToString() ?? "whole sequence"}, "
            + $"timescale {before.ForgetTimescale:F2} -> {after.ForgetTimescale:F2}, gain {result.GainPerStepBefore:F3} -> {result.GainPerStepAfter:F3}");
        Assert.InRange(before.MemoryHorizon!.Value, 1, 15);
        Assert.True(after.MemoryHorizon is null || after.MemoryHorizon >= Length, $"horizon {after.MemoryHorizon}");
        Assert.True(after.ForgetTimescale > 10 * before.ForgetTimescale);
        Assert.True(result.GainPerStepAfter > result.GainPerStepBefore);
        Assert.Contains("for 60 steps", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_without_recurrent_layers_reports_no_gain_through_time()
    {
        manual_seed(23);
        using var model = Mlp.Create(4, 16, Activation.ReLU, Init.He);

        GradientFlowInitializationResult result = model.InitializeForGradientFlow(() => model.call(randn(8, 16)));

        Assert.Null(result.GainPerStepBefore);
        Assert.Null(result.GainPerStepAfter);
        Assert.Empty(result.RecurrentLayers);
        Assert.DoesNotContain("Recurrent", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_sequence_length_sets_the_chrono_horizon()
    {
        manual_seed(24);
        using var model = new RecurrentRegressor(RecurrentKind.LSTM, 4, 16);

        GradientFlowInitializationResult result = model.InitializeForGradientFlow(() => model.call(randn(10, 2, 4)), sequenceLength: 500);

        Assert.Contains("log(U(1, 499))", Assert.Single(result.RecurrentLayers), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.InitializeForGradientFlow(() => model.call(randn(10, 2, 4)), sequenceLength: 1));
    }

    /// <summary>The monitor's profile of one step whose loss reads the last time step only (a sequence-to-one task, the
    /// setting the memory horizon describes); with <paramref name="everyStep"/>, the loss reads every step.</summary>
    private static RecurrentTimeProfile MonitoredProfile(RecurrentRegressor model, Tensor x, bool everyStep = false)
    {
        using var monitor = model.AttachGradientMonitor(o => o.ThroughTime.Interval = 1);
        using var scope = NewDisposeScope();
        Tensor y = model.call(x);
        (everyStep ? y.square().mean() : y[-1].square().mean()).backward();
        GradientStepResult step = monitor.Step();
        model.zero_grad();
        return step.TimeProfiles.Single();
    }
}
