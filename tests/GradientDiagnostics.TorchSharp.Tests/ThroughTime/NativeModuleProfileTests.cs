using GradientDiagnostics.TorchSharp.Tests.Models;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.ThroughTime;

/// <summary>Fused modules and gated cells: the c-path gain of an LSTM against its closed form, every stacked layer and
/// direction of a multi-layer bidirectional module against libtorch's own gradient of the initial state, and the calls
/// that cannot be measured, each reported with its reason.</summary>
public sealed class NativeModuleProfileTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lstm_with_zero_weights_has_c_path_gain_sigma_b_and_forget_timescale_minus_one_over_ln_sigma_b(bool native)
    {
        const double b = 2;
        const int length = 20, batch = 2, hidden = 5;
        using nn.Module<Tensor, Tensor> model = native ? new LastCellState(nn.LSTM(hidden, hidden)) : new CellLoop(nn.LSTMCell(hidden, hidden));
        RecurrentWeights.ZeroWithForgetBias(model, b);
        using var monitor = model.AttachGradientMonitor(o => o.ThroughTime.Interval = 1);
        RecurrentTimeProfile profile;
        using (var scope = NewDisposeScope())
        {
            Tensor result = model.call(ones(length, batch, hidden));
            Tensor loss = native ? result.sum() : ((CellLoop)model).LastCellState!.sum();
            loss.backward();
            profile = Assert.Single(monitor.Step(loss).TimeProfiles);
        }

        double sigma = 1 / (1 + Math.Exp(-b));
        output.WriteLine($"{(native ? "nn.LSTM" : "LSTMCell loop")}: gain {profile.GainPerStep:R} (σ(b) = {sigma:R}), timescale {profile.ForgetTimescale:R}, "
            + $"gate norms [{string.Join(", ", profile.GateSpectralNorms)}]");
        Assert.True(profile.Measured, profile.NotMeasuredReason);
        Assert.All(profile.StepGains, g => Assert.Equal(sigma, g, 1e-4));
        Assert.Equal(sigma, profile.GainPerStep, 1e-4);
        Assert.Equal(-1 / Math.Log(sigma), profile.ForgetTimescale!.Value, 1e-6);
        Assert.Equal("LSTM", profile.Unit);
        Assert.Equal(4, profile.GateSpectralNorms.Count);
    }

    [Theory]
    [InlineData("RNN", false, 8)]
    [InlineData("LSTM", false, 8)]
    [InlineData("GRU", false, 8)]
    [InlineData("GRU", true, 8)]
    [InlineData("LSTM", true, 2)]
    public void Every_layer_and_direction_of_a_two_layer_bidirectional_module_matches_libtorchs_gradient_of_its_initial_state(string kind, bool batchFirst, int maxSequences)
    {
        const int length = 12, batch = 4, features = 6, hidden = 8, layers = 2;
        manual_seed(31);
        using nn.Module module = kind switch
        {
            "RNN" => nn.RNN(features, hidden, layers, batchFirst: batchFirst, bidirectional: true),
            "LSTM" => nn.LSTM(features, hidden, layers, batchFirst: batchFirst, bidirectional: true),
            _ => nn.GRU(features, hidden, layers, batchFirst: batchFirst, bidirectional: true),
        };
        using var model = new WithInitialState(module);
        using var monitor = model.AttachGradientMonitor(o => (o.ThroughTime.Interval, o.ThroughTime.MaxSequences) = (1, maxSequences));
        using var scope = NewDisposeScope();
        Tensor x = batchFirst ? randn(batch, length, features) : randn(length, batch, features);
        Tensor h0 = randn(layers * 2, batch, hidden).requires_grad_(true), c0 = randn(layers * 2, batch, hidden).requires_grad_(true);
        (Tensor y, Tensor hn) = model.Run(x, h0, c0);
        Tensor loss = (y * randn_like(y)).sum() + (hn * randn_like(hn)).sum();
        loss.backward();
        GradientStepResult result = monitor.Step(loss);

        Assert.Equal(layers * 2, result.TimeProfiles.Count);
        foreach (RecurrentTimeProfile p in result.TimeProfiles)
        {
            Assert.True(p.Measured, p.NotMeasuredReason);
            int index = (p.StackedLayer * 2) + (p.Reverse ? 1 : 0), first = p.Reverse ? length - 1 : 0;
            int n = Math.Min(batch, maxSequences);
            double expected = Math.Sqrt(h0.grad!.narrow(1, 0, n)[index].square().sum().item<float>()
                + (kind == "LSTM" ? c0.grad!.narrow(1, 0, n)[index].square().sum().item<float>() : 0));
            double measured = p.StepGains[first] * p.GradientNorms[first];
            output.WriteLine($"{kind} layer {p.StackedLayer}{(p.Reverse ? " reverse" : "")}: ‖J_0ᵀ g_0‖ {measured:G6} vs ‖∂L/∂h_0‖ {expected:G6}; gain {p.GainPerStep:G4}");
            Assert.True(Math.Abs(measured / expected - 1) < 1e-4, $"{measured} vs {expected}");
            Assert.Equal(n, p.SequenceCount);
            Assert.Equal(kind == "RNN" ? "RNN_TANH" : kind, p.Unit);
        }
    }

    [Fact]
    public void A_two_layer_lstm_with_dropout_is_not_measured_in_training_and_is_measured_in_evaluation()
    {
        manual_seed(32);
        using var model = new FusedRegressor(nn.LSTM(4, 8, numLayers: 2, dropout: 0.5));
        using var monitor = model.AttachGradientMonitor(o => o.ThroughTime.Interval = 1);

        IReadOnlyList<RecurrentTimeProfile> training = Step(model, monitor);
        model.eval();
        IReadOnlyList<RecurrentTimeProfile> evaluation = Step(model, monitor);

        output.WriteLine(training[0].NotMeasuredReason);
        Assert.All(training, p => Assert.Contains("dropout", p.NotMeasuredReason, StringComparison.Ordinal));
        Assert.All(evaluation, p => Assert.True(p.Measured, p.NotMeasuredReason));
    }

    [Fact]
    public void A_packed_sequence_call_is_reported_as_not_measured()
    {
        manual_seed(33);
        using var model = new PackedLstm(nn.LSTM(4, 8));
        using var monitor = model.AttachGradientMonitor(o => o.ThroughTime.Interval = 1);

        RecurrentTimeProfile profile = Assert.Single(Step(model, monitor));

        output.WriteLine(profile.NotMeasuredReason);
        Assert.False(profile.Measured);
        Assert.Contains("PackedSequence", profile.NotMeasuredReason, StringComparison.Ordinal);
        Assert.Empty(profile.GradientNorms);
    }

    private static IReadOnlyList<RecurrentTimeProfile> Step(nn.Module<Tensor, Tensor> model, GradientMonitor monitor)
    {
        using var scope = NewDisposeScope();
        Tensor loss = model.call(randn(10, 3, 4)).square().mean();
        loss.backward();
        return monitor.Step(loss).TimeProfiles;
    }

    /// <summary>Passes an initial state and returns (output, h_n).</summary>
    private sealed class WithInitialState : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module recurrent;

        public WithInitialState(nn.Module recurrent)
            : base(nameof(WithInitialState))
        {
            this.recurrent = recurrent;
            RegisterComponents();
        }

        public (Tensor Output, Tensor Last) Run(Tensor x, Tensor h0, Tensor c0) => recurrent switch
        {
            LSTM lstm => lstm.call(x, (h0, c0)) is var (y, hn, _) ? (y, hn) : default,
            RNN rnn => rnn.call(x, h0),
            GRU gru => gru.call(x, h0),
            _ => throw new InvalidOperationException(),
        };

        public override Tensor forward(Tensor input) => throw new NotSupportedException();
    }

    /// <summary>Returns an LSTM's c_n.</summary>
    private sealed class LastCellState : nn.Module<Tensor, Tensor>
    {
        private readonly LSTM lstm;

        public LastCellState(LSTM lstm)
            : base(nameof(LastCellState))
        {
            this.lstm = lstm;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => lstm.call(input).Item3;
    }

    /// <summary>Calls its LSTM with a PackedSequence (all sequences at full length), which bypasses forward hooks.</summary>
    private sealed class PackedLstm : nn.Module<Tensor, Tensor>
    {
        private readonly LSTM lstm;

        public PackedLstm(LSTM lstm)
            : base(nameof(PackedLstm))
        {
            this.lstm = lstm;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            Tensor lengths = full(input.shape[1], input.shape[0], dtype: ScalarType.Int64);
            var packed = nn.utils.rnn.pack_padded_sequence(input, lengths);
            return lstm.call(packed).Item2;
        }
    }
}
