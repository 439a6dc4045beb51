using GradientDiagnostics.TorchSharp.Tests.Models;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.ThroughTime;

/// <summary>The time profile against closed forms: a tanh RNN with W_hh = ρ·Q, W_ih = I, zero biases and inputs stays at
/// h = 0, where tanh′ = 1, so for the loss v·h_T (‖v‖ = 1) ‖∂L/∂h_t‖ = ρ^(T−1−t) and every step's gain is ρ.</summary>
public sealed class ClosedFormProfileTests(ITestOutputHelper output)
{
    private const int Hidden = 16;
    private const int Length = 30;
    private const int Batch = 3;

    [Theory]
    [InlineData(0.8, false)]
    [InlineData(1.1, false)]
    [InlineData(0.8, true)]
    [InlineData(1.1, true)]
    public void Tanh_rnn_profile_equals_rho_powers_as_cell_loop_and_native_module(double rho, bool native)
    {
        manual_seed(27);
        using nn.Module<Tensor, Tensor> model = native ? new FusedRegressor(nn.RNN(Hidden, Hidden)) : new CellLoop(nn.RNNCell(Hidden, Hidden));
        RecurrentWeights.ScaledOrthogonal(model, rho);
        using var monitor = model.AttachGradientMonitor(o => o.ThroughTime.Interval = 1);

        RecurrentTimeProfile profile = Step(model, monitor, lossAtEveryStep: false);

        output.WriteLine($"{(native ? "nn.RNN" : "RNNCell loop")} rho {rho}: gain {profile.GainPerStep:R}, horizon {profile.MemoryHorizon}, "
            + $"norms {string.Join(", ", profile.GradientNorms.Take(3).Select(n => n.ToString("G6")))} …, spectral {profile.RecurrentSpectralNorm:R}");
        Assert.True(profile.Measured, profile.NotMeasuredReason);
        Assert.Equal(Length, profile.GradientNorms.Count);
        for (int t = 0; t < Length; t++)
        {
            double expected = Math.Pow(rho, Length - 1 - t);
            Assert.True(Math.Abs(profile.GradientNorms[t] / expected - 1) < 1e-4, $"t = {t}: {profile.GradientNorms[t]:R} vs {expected:R}");
        }

        Assert.Equal(rho, profile.GainPerStep, 1e-3);
        Assert.Equal(rho, profile.RecurrentSpectralNorm!.Value, 1e-4);
        int? closedForm = rho < 1 ? (int)Math.Floor(Math.Log(0.01) / Math.Log(rho)) : null;
        Assert.Equal(closedForm, profile.MemoryHorizon);
        Assert.Equal("RNN_TANH", profile.Unit);
        Assert.Equal(native, profile.Replayed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gain_per_step_stays_exact_with_a_loss_at_every_step_where_a_log_norm_fit_is_biased(bool native)
    {
        manual_seed(28);
        const double rho = 0.8;
        using nn.Module<Tensor, Tensor> model = native ? new FusedRegressor(nn.RNN(Hidden, Hidden)) : new CellLoop(nn.RNNCell(Hidden, Hidden));
        RecurrentWeights.ScaledOrthogonal(model, rho);
        using var monitor = model.AttachGradientMonitor(o => o.ThroughTime.Interval = 1);

        RecurrentTimeProfile profile = Step(model, monitor, lossAtEveryStep: true);

        // The fit of ln ‖∂L/∂h_t‖ over t: the direct loss at every step keeps the total norms up.
        double fitted = Math.Exp((Math.Log(profile.GradientNorms[0]) - Math.Log(profile.GradientNorms[^1])) / (Length - 1));
        output.WriteLine($"gain {profile.GainPerStep:R}; log-norm fit {fitted:R}");
        Assert.Equal(rho, profile.GainPerStep, 1e-3);
        Assert.True(Math.Abs(fitted - rho) > 0.1, $"the log-norm fit {fitted} should be biased away from {rho}");
    }

    internal static RecurrentTimeProfile Step(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, bool lossAtEveryStep)
    {
        using var scope = NewDisposeScope();
        Tensor states = model.call(zeros(Length, Batch, Hidden));
        Tensor v = manual_seed(5) is not null ? randn(Batch, Hidden) : throw new InvalidOperationException();
        v /= v.norm();
        Tensor loss = lossAtEveryStep ? (states * v).sum() : (states[Length - 1] * v).sum();
        loss.backward();
        GradientStepResult result = monitor.Step(loss);
        return Assert.Single(result.TimeProfiles);
    }
}

/// <summary>A fused recurrent module called through call() whose output sequence is the model's output.</summary>
internal sealed class FusedRegressor : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module recurrent;

    public FusedRegressor(nn.Module recurrent)
        : base(nameof(FusedRegressor))
    {
        this.recurrent = recurrent;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => recurrent switch
    {
        LSTM lstm => lstm.call(input).Item1,
        RNN rnn => rnn.call(input, null!).Item1,
        GRU gru => gru.call(input, null!).Item1,
        _ => throw new InvalidOperationException(),
    };
}
