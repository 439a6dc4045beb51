using GradientDiagnostics.TorchSharp.Initialization;
using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Initialization;

/// <summary>The recurrent remedy's own steps, measured with the hand-written reference (<see cref="RecurrentReference"/>)
/// that shares no code with the product.</summary>
public sealed class RecurrentRemedyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void Measured_rounds_bring_a_tanh_rnn_gain_within_5_percent_of_1_at_input_scales_that_leave_orthogonal_short(double inputScale)
    {
        manual_seed(3);
        using var rnn = nn.RNN(8, 64);
        using var x = randn(60, 16, 8) * inputScale;
        var remedy = new RecurrentRemedy(rnn);
        double before = Gain(rnn, x);

        remedy.Start(() => rnn.call(x).Item1, sequenceLength: null);
        double orthogonal = Gain(rnn, x);
        int rounds = 0;
        while (!remedy.Converged && rounds++ < 10)
        {
            remedy.Correct([Gain(rnn, x)]);
        }

        double after = Gain(rnn, x);
        output.WriteLine($"input x{inputScale}: default {before:F3}, orthogonal {orthogonal:F3}, after {rounds} rounds {after:F3}; {remedy.Describe()[0]}");
        Assert.InRange(before, 0.3, 0.7);
        Assert.True(orthogonal < 0.9, $"orthogonal alone {orthogonal}");
        Assert.InRange(after, 0.95, 1.05);
        Assert.InRange(rounds, 1, 6);
    }

    [Theory]
    [InlineData(RecurrentKind.LSTM)]
    [InlineData(RecurrentKind.GRU)]
    public void Chrono_start_keeps_a_default_gated_layers_signal_over_the_whole_sequence(RecurrentKind kind)
    {
        manual_seed(4);
        using nn.Module module = kind == RecurrentKind.LSTM ? nn.LSTM(8, 64) : nn.GRU(8, 64);
        using var x = randn(60, 16, 8);
        int? before = RecurrentReference.Horizon(RecurrentReference.Norms(kind, module, x));
        var remedy = new RecurrentRemedy(module);

        remedy.Start(() => kind == RecurrentKind.LSTM
            ? ((global::TorchSharp.Modules.LSTM)module).call(x).Item1
            : ((global::TorchSharp.Modules.GRU)module).call(x).Item1, null);

        double[] norms = RecurrentReference.Norms(kind, module, x);
        output.WriteLine($"{kind}: horizon {before} -> {RecurrentReference.Horizon(norms)}; first/last {norms[0] / norms[^1]:E2}; {remedy.Describe()[0]}");
        Assert.InRange(before!.Value, 1, 15);
        Assert.Null(RecurrentReference.Horizon(norms)); // at or above 1% of its size at the loss 59 steps back
        Assert.True(remedy.Converged);
    }

    [Fact]
    public void Gate_bias_is_written_once_the_effective_bias_is_chrono_and_bhh_slice_is_zero()
    {
        manual_seed(5);
        using var lstm = nn.LSTM(4, 16, numLayers: 2, bidirectional: true);
        var remedy = new RecurrentRemedy(lstm);

        remedy.Start(() => throw new InvalidOperationException("not called when the length is given"), sequenceLength: 100);

        Assert.Equal(4, remedy.Layers.Single().Recurrences.Count);
        foreach (RecurrenceParameters r in remedy.Layers.Single().Recurrences)
        {
            using Tensor forget = (r.BiasIh! + r.BiasHh!).narrow(0, 16, 16), input = (r.BiasIh! + r.BiasHh!).narrow(0, 0, 16);
            Assert.Equal(0, r.BiasHh!.narrow(0, 0, 32).abs().max().item<float>());
            Assert.InRange(forget.min().item<float>(), 0, Math.Log(99)); // log U(1, 99)
            Assert.InRange(forget.max().item<float>(), 0, Math.Log(99) + 1e-5);
            Assert.InRange(forget.exp().mean().item<float>(), 25, 75); // U(1, 99) has mean 50, sd 28: 16 units, mean sd 7
            Assert.True(Tensors.BitIdentical(input, forget.neg()) || input.add(forget).abs().max().item<float>() == 0);
            for (int gate = 0; gate < 4; gate++)
            {
                using Tensor block = r.WeightHh.narrow(0, gate * 16, 16);
                using Tensor gram = block.matmul(block.t());
                Assert.True(gram.allclose(eye(16), atol: 1e-5), $"{r.Suffix} gate {gate} is not orthogonal");
            }
        }
    }

    [Fact]
    public void Relu_rnn_gets_the_identity_and_zero_biases_and_a_tanh_rnn_is_told_apart()
    {
        using var relu = nn.RNN(4, 8, nonLinearity: nn.NonLinearities.ReLU);
        using var tanh = nn.RNNCell(4, 8);
        var remedy = new RecurrentRemedy(relu);

        remedy.Start(() => relu.call(ones(5, 2, 4)).Item1, null);

        RecurrenceParameters w = remedy.Layers.Single().Recurrences.Single();
        Assert.True(w.WeightHh.detach().equal(eye(8)).all().item<bool>());
        Assert.Equal(0, w.BiasIh!.abs().sum().item<float>() + w.BiasHh!.abs().sum().item<float>());
        Assert.Equal(RecurrentUnit.RnnTanh, new RecurrentRemedy(tanh).Layers.Single().Unit);
    }

    [Fact]
    public void Sequence_length_is_read_from_the_forward_for_batch_first_fused_modules_and_counted_for_cells()
    {
        using var fused = nn.GRU(3, 8, batchFirst: true);
        using var cell = nn.LSTMCell(3, 8);
        using var x = randn(4, 37, 3);
        var fusedRemedy = new RecurrentRemedy(fused);
        var cellRemedy = new RecurrentRemedy(cell);

        fusedRemedy.Start(() => fused.call(x).Item1, null);
        cellRemedy.Start(() =>
        {
            (Tensor h, Tensor c) state = (zeros(4, 8), zeros(4, 8));
            for (int t = 0; t < 23; t++)
            {
                state = cell.call(x[.., t], state);
            }

            return state.h;
        }, null);

        Assert.Contains("for 37 steps", fusedRemedy.Describe()[0], StringComparison.Ordinal);
        Assert.Contains("for 23 steps", cellRemedy.Describe()[0], StringComparison.Ordinal);
    }

    private static double Gain(global::TorchSharp.Modules.RNN rnn, Tensor x) => RecurrentReference.Gain(RecurrentReference.Norms(RecurrentKind.RNN, rnn, x));
}
