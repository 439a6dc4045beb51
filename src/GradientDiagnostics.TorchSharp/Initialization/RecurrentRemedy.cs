using System.Globalization;

namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>
/// The recurrent half of the initialization remedy: the analytic start of every recurrent layer
/// (<see cref="RecurrentInitialization"/>), then measured rounds that scale each tanh RNN's orthogonal recurrent weight
/// until its measured per-step gain is 1. An orthogonal W_hh alone leaves the gain below 1, by the tanh derivative at the
/// states the data drives it to (0.87 at unit-variance inputs, 0.72 at three times that: docs/recurrent.md); a larger
/// scale saturates the units more, so the gain grows more slowly than the scale, and a secant on ln γ against ln ρ finds
/// the scale. LSTM and GRU layers and ReLU RNNs get no rounds: their memory is set by the gate biases and the identity.
/// </summary>
internal sealed class RecurrentRemedy
{
    /// <summary>The scale range of a tanh RNN's recurrent weight, as a multiple of the orthogonal start: twice is far past
    /// the scale that brought the gain to 1 in every measured case (1.3–1.5× at input variances 1–9).</summary>
    internal const double MinScale = 0.5;

    /// <summary>See <see cref="MinScale"/>.</summary>
    internal const double MaxScale = 2;

    /// <summary>Rounds stop when every tanh RNN's measured gain is within this relative distance of 1, well inside the
    /// 10% the remedy promises, so one more measurement on other data still lands inside it.</summary>
    internal const double Tolerance = 0.02;

    /// <summary>The first round's guess of d ln γ / d ln ρ; measured 0.5 (unit-variance inputs) to 0.7 (variance 9).</summary>
    private const double FirstElasticity = 0.5;

    private readonly RecurrentLayer[] _layers;
    private readonly double[] _scale;
    private readonly (double LogScale, double LogGain)?[] _last;
    private int[] _lengths = [];

    public RecurrentRemedy(torch.nn.Module model)
    {
        _layers = RecurrentLayers.Discover(model);
        _scale = [.. _layers.Select(_ => 1.0)];
        _last = new (double, double)?[_layers.Length];
    }

    /// <summary>The recurrent layers, in module order.</summary>
    public IReadOnlyList<RecurrentLayer> Layers => _layers;

    /// <summary>Whether the last <see cref="Correct"/> found every tanh RNN within <see cref="Tolerance"/> (or held at a
    /// scale limit); true when there is none.</summary>
    public bool Converged { get; private set; }

    /// <summary>Finds each layer's sequence length (the user's, or one forward of <paramref name="forward"/>)
    /// and writes the analytic start.</summary>
    public void Start(Func<torch.Tensor> forward, int? sequenceLength)
    {
        if (sequenceLength is int given)
        {
            _lengths = [.. _layers.Select(_ => given)];
        }
        else
        {
            // With gradients on, as the closure runs in training: the remedy's probes on the same modules expect a graph.
            using var lengths = new SequenceLengths(_layers);
            using var scope = torch.NewDisposeScope();
            _ = forward();
            _lengths = [.. lengths.Lengths];
        }

        for (int i = 0; i < _layers.Length; i++)
        {
            RecurrentInitialization.Apply(_layers[i], Math.Max(_lengths[i], 2));
        }

        Converged = !_layers.Any(l => l.Unit == RecurrentUnit.RnnTanh);
    }

    /// <summary>One measured round: scales each tanh RNN's recurrent weight towards a per-step gain of 1.</summary>
    /// <param name="gains">The measured per-step gain of each layer, in <see cref="Layers"/> order; null where not measured.</param>
    public void Correct(IReadOnlyList<double?> gains)
    {
        bool converged = true;
        for (int i = 0; i < _layers.Length; i++)
        {
            if (_layers[i].Unit != RecurrentUnit.RnnTanh || gains[i] is not double gain || !double.IsFinite(gain) || gain <= 0)
            {
                continue;
            }

            double logScale = Math.Log(_scale[i]), logGain = Math.Log(gain);
            double elasticity = _last[i] is (double s, double g) && Math.Abs(logScale - s) > 1e-6
                ? Math.Clamp((logGain - g) / (logScale - s), 0.2, 1)
                : FirstElasticity;
            _last[i] = (logScale, logGain);
            double wanted = Math.Clamp(_scale[i] * Math.Exp(-logGain / elasticity), MinScale, MaxScale);
            bool pinned = wanted == _scale[i] && Math.Abs(logGain) > Math.Log(1 + Tolerance);
            converged &= Math.Abs(logGain) <= Math.Log(1 + Tolerance) || pinned;
            if (Math.Abs(logGain) > Math.Log(1 + Tolerance))
            {
                RecurrentInitialization.ScaleRecurrentWeight(_layers[i], wanted / _scale[i]);
                _scale[i] = wanted;
            }
        }

        Converged = converged;
    }

    /// <summary>One line per layer for the result: its path, unit and what was written into it.</summary>
    public string[] Describe() => [.. _layers.Select((layer, i) => layer.Describe() + ": " + Change(layer, i))];

    private string Change(RecurrentLayer layer, int i)
    {
        int steps = _lengths.Length > i ? _lengths[i] : 0;
        return layer.Unit switch
        {
            RecurrentUnit.RnnTanh => string.Create(CultureInfo.InvariantCulture, $"orthogonal W_hh x {_scale[i]:F3}, scaled by measurement"),
            RecurrentUnit.RnnRelu => "identity W_hh and zero biases (IRNN)",
            _ when !RecurrentInitialization.HasGateBias(layer) => "orthogonal gate blocks of W_hh; no biases, so the memory gate could not be set",
            RecurrentUnit.Lstm => $"orthogonal gate blocks of W_hh; chrono forget bias log(U(1, {Math.Max(steps - 1, 1)})) and input bias its negative, "
                + $"for {steps} steps, written into b_ih with b_hh's slices at 0",
            _ => $"orthogonal gate blocks of W_hh; chrono update bias log(U(1, {Math.Max(steps - 1, 1)})) for {steps} steps, "
                + "written into b_ih with b_hh's slice at 0",
        };
    }
}
