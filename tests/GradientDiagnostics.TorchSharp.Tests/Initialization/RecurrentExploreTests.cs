using GradientDiagnostics.TorchSharp.Initialization;
using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Initialization;

public sealed class RecurrentExploreTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void Explore(double inputScale)
    {
        manual_seed(3);
        using var rnn = nn.RNN(8, 64);
        using var x = randn(60, 16, 8) * inputScale;
        double before = RecurrentReference.Gain(RecurrentReference.Norms(RecurrentKind.RNN, rnn, x));
        RecurrentLayer layer = RecurrentLayers.Discover(rnn).Single();
        RecurrentInitialization.Apply(layer, 60);
        double after = RecurrentReference.Gain(RecurrentReference.Norms(RecurrentKind.RNN, rnn, x));
        var gains = new List<double>();
        foreach (double s in new[] { 1.05, 1.1, 1.2, 1.3, 1.5 })
        {
            RecurrentInitialization.Apply(layer, 60);
            RecurrentInitialization.ScaleRecurrentWeight(layer, s);
            gains.Add(RecurrentReference.Gain(RecurrentReference.Norms(RecurrentKind.RNN, rnn, x)));
        }

        output.WriteLine($"input {inputScale}: {layer.Unit} default {before:F3} orthogonal {after:F3} scaled {string.Join(" ", gains.Select(g => g.ToString("F3")))}");

        using var lstm = nn.LSTM(8, 64);
        double[] n0 = RecurrentReference.Norms(RecurrentKind.LSTM, lstm, x);
        RecurrentLayer l = RecurrentLayers.Discover(lstm).Single();
        RecurrentInitialization.Apply(l, 60);
        double[] n1 = RecurrentReference.Norms(RecurrentKind.LSTM, lstm, x);
        output.WriteLine($"lstm gain {RecurrentReference.Gain(n0):F3} horizon {RecurrentReference.Horizon(n0)} -> {RecurrentReference.Gain(n1):F3} horizon {RecurrentReference.Horizon(n1)} ratio {n1[0] / n1[^1]:E2}");
        using var gru = nn.GRU(8, 64);
        double[] g0 = RecurrentReference.Norms(RecurrentKind.GRU, gru, x);
        RecurrentInitialization.Apply(RecurrentLayers.Discover(gru).Single(), 60);
        double[] g1 = RecurrentReference.Norms(RecurrentKind.GRU, gru, x);
        output.WriteLine($"gru gain {RecurrentReference.Gain(g0):F3} horizon {RecurrentReference.Horizon(g0)} -> {RecurrentReference.Gain(g1):F3} horizon {RecurrentReference.Horizon(g1)}");
        using var relu = nn.RNN(8, 64, nonLinearity: nn.NonLinearities.ReLU);
        output.WriteLine($"relu detected {RecurrentLayers.Discover(relu).Single().Unit}");
    }
}
