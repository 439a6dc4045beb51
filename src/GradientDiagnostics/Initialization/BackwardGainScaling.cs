namespace GradientDiagnostics.Adapters;

/// <summary>
/// Decides the weight scale of each layer so that the back-propagated signal ‖∂L/∂y‖ keeps its size from layer to
/// layer: per-layer gain 1, the critical line of Schoenholz et al. 2017 (√(σ_w²·E[φ'(z)²]) = 1), reached by measurement
/// rather than by formula. First an analytic start: each rescalable layer whose following activation is known gets the
/// weight scale of its init scheme (Glorot &amp; Bengio 2010 for tanh, sigmoid and linear outputs; He et al. 2015 for the
/// ReLU family). Then rounds of measured correction, in the spirit of LSUV (Mishkin &amp; Matas 2016) but on the backward
/// signal: with ‖∂L/∂y_j‖ and ‖∂L/∂y_k‖ measured on consecutive probed layers j &lt; k, layer k's weight multiplies the
/// signal on its way from y_k to y_j, so scaling it by ‖∂L/∂y_k‖ / ‖∂L/∂y_j‖ brings that ratio to 1 (exactly for ReLU
/// with zero biases, approximately for saturating activations, hence the rounds). Every layer's total factor stays within
/// [1/8, 2]× its analytic scale (or [1/8, 8]× its starting scale when the activation is unknown).
/// </summary>
public sealed class BackwardGainScaling
{
    /// <summary>The largest weight scale applied, as a multiple of the analytic (He / Xavier) standard deviation: enough
    /// for every activation whose gain at its analytic init is near 1 (ReLU + He, tanh + Xavier), and the limit of a
    /// "useful" scale for saturating ones: sigmoid would need about ten times the Xavier scale (docs/remedies.md).</summary>
    internal const double MaxOverAnalytic = 2;

    /// <summary>The smallest weight scale applied, as a multiple of the analytic standard deviation or of the starting one.</summary>
    internal const double MinScale = 0.125;

    /// <summary>The largest weight scale applied to a layer whose activation is unknown, as a multiple of its starting scale.</summary>
    internal const double MaxOverInitial = 8;

    /// <summary>The largest change of one layer's scale in one round, either way, so one noisy measurement cannot throw a
    /// layer far off.</summary>
    internal const double MaxRoundFactor = 4;

    /// <summary>Rounds stop when every layer that can still move wants less than this relative change.</summary>
    internal const double ConvergenceTolerance = 0.02;

    private readonly ScalingLayer[] _layers;
    private readonly double[] _total;
    private readonly double[] _lower;
    private readonly double[] _upper;
    private readonly string?[] _scheme;
    private readonly double[] _analytic;
    private readonly bool[] _measured;
    private readonly bool[] _pinnedHigh;
    private double _largestWantedChange = double.PositiveInfinity;

    /// <summary>Starts a scaling of <paramref name="layers"/>, none of them changed yet.</summary>
    /// <param name="layers">Every monitored layer in forward order, with its role and its weight RMS as found.</param>
    public BackwardGainScaling(IReadOnlyList<ScalingLayer> layers)
    {
        _layers = [.. layers];
        int n = _layers.Length;
        (_total, _lower, _upper, _analytic) = (new double[n], new double[n], new double[n], new double[n]);
        (_scheme, _measured, _pinnedHigh) = (new string?[n], new bool[n], new bool[n]);
        for (int i = 0; i < n; i++)
        {
            _total[i] = 1;
            (_lower[i], _upper[i]) = (1, 1);
            if (!IsRescalable(i))
            {
                continue;
            }

            if (InitializationScale.ExpectedFor(_layers[i].Descriptor) is (string scheme, double expected))
            {
                _scheme[i] = scheme;
                _analytic[i] = expected / _layers[i].WeightRms;
                (_lower[i], _upper[i]) = (MinScale * _analytic[i], MaxOverAnalytic * _analytic[i]);
            }
            else
            {
                (_lower[i], _upper[i]) = (MinScale, MaxOverInitial);
            }
        }
    }

    /// <summary>The result a person reads: the depth gain before and after, the total factor and its reason per layer,
    /// whether the activation limits the gain, and a message.</summary>
    /// <param name="before">The depth gain measured before any change.</param>
    /// <param name="after">The depth gain measured after the last round.</param>
    /// <param name="iterations">The measured correction rounds run.</param>
    /// <param name="unprobed">The layers whose output gradient could not be probed.</param>
    /// <returns>The remedy's result.</returns>
    public GradientFlowInitializationResult ToResult(double? before, double? after, int iterations, IReadOnlyList<string> unprobed) =>
        InitializationReport.Build(this, before, after, iterations, unprobed, RecurrentRemedyOutcome.None);

    /// <summary>The result, with what an adapter's recurrent remedy did.</summary>
    /// <param name="before">The depth gain before any change.</param>
    /// <param name="after">The depth gain after the last round.</param>
    /// <param name="iterations">The measured correction rounds run.</param>
    /// <param name="unprobed">The layers whose output gradient could not be probed.</param>
    /// <param name="gainPerStepBefore">The recurrent layers' per-step gain through time before (null when not measured).</param>
    /// <param name="gainPerStepAfter">The same after the remedy.</param>
    /// <param name="recurrentLayers">One line per recurrent layer: its path, its unit and what was written into it.</param>
    /// <returns>The remedy's result (<see cref="GradientFlowInitializationResult.GainPerStepBefore"/> and after set).</returns>
    public GradientFlowInitializationResult ToResult(double? before, double? after, int iterations, IReadOnlyList<string> unprobed,
        double? gainPerStepBefore, double? gainPerStepAfter, IReadOnlyList<string> recurrentLayers) =>
        InitializationReport.Build(this, before, after, iterations, unprobed,
            new RecurrentRemedyOutcome(gainPerStepBefore, gainPerStepAfter, [.. recurrentLayers ?? throw new ArgumentNullException(nameof(recurrentLayers))]));

    /// <summary>The layers, in forward order.</summary>
    public IReadOnlyList<ScalingLayer> Layers => _layers;

    /// <summary>The total factor applied to each layer's weights so far.</summary>
    public IReadOnlyList<double> TotalFactors => _total;

    /// <summary>Whether the last round's wanted changes were all within <see cref="ConvergenceTolerance"/> (layers held at
    /// a scale limit aside).</summary>
    public bool Converged => _largestWantedChange <= Math.Log(1 + ConvergenceTolerance);

    /// <summary>Whether layer <paramref name="index"/> ended a round at its upper scale limit still wanting more.</summary>
    internal bool IsPinnedHigh(int index) => _pinnedHigh[index];

    /// <summary>Whether layer <paramref name="index"/> got the analytic start (and by which scheme).</summary>
    internal string? AnalyticScheme(int index) => _scheme[index];

    /// <summary>Whether layer <paramref name="index"/> got at least one measured correction.</summary>
    internal bool WasMeasured(int index) => _measured[index];

    /// <summary>The analytic start: the factor that brings each rescalable layer with a known activation to its scheme's
    /// standard deviation (1 for the others). Apply the factors to the weights before the first round.</summary>
    public double[] AnalyticStart()
    {
        double[] factors = Ones();
        for (int i = 0; i < _layers.Length; i++)
        {
            if (_scheme[i] is not null)
            {
                factors[i] = _analytic[i];
                _total[i] = factors[i];
            }
        }

        return factors;
    }

    /// <summary>One round of measured correction from the output-gradient norms of one pass (forward order, null where
    /// not probed): the factor to multiply each layer's weights by now (1 for layers left alone). When layers between two
    /// probed ones were not probed, the ratio is shared among the rescalable layers of the gap, each taking an equal
    /// share of its logarithm.</summary>
    public double[] Correct(ReadOnlySpan<double?> outputGradientNorms)
    {
        double[] factors = Ones();
        _largestWantedChange = 0;
        int previous = -1;
        for (int i = 0; i < _layers.Length && i < outputGradientNorms.Length; i++)
        {
            if (outputGradientNorms[i] is not double norm)
            {
                continue;
            }

            if (!double.IsFinite(norm) || norm <= 0)
            {
                previous = -1; // a zero or non-finite norm says nothing about the gain on either side
                continue;
            }

            if (previous >= 0)
            {
                int[] span = [.. Enumerable.Range(previous + 1, i - previous).Where(IsRescalable)];
                double share = Math.Pow(norm / outputGradientNorms[previous]!.Value, 1.0 / Math.Max(1, span.Length));
                foreach (int j in span)
                {
                    factors[j] = Move(j, Math.Clamp(share, 1 / MaxRoundFactor, MaxRoundFactor));
                }
            }

            previous = i;
        }

        return factors;
    }

    /// <summary>Moves layer <paramref name="index"/>'s total factor by <paramref name="wanted"/> within its limits, and
    /// returns the factor actually applied now.</summary>
    private double Move(int index, double wanted)
    {
        double target = Math.Clamp(_total[index] * wanted, _lower[index], _upper[index]);
        _pinnedHigh[index] = wanted > 1 && target >= _upper[index] * (1 - 1e-9);
        bool pinnedLow = wanted < 1 && target <= _lower[index] * (1 + 1e-9);
        if (!_pinnedHigh[index] && !pinnedLow)
        {
            _largestWantedChange = Math.Max(_largestWantedChange, Math.Abs(Math.Log(wanted)));
        }

        double factor = target / _total[index];
        _total[index] = target;
        _measured[index] = true;
        return factor;
    }

    private bool IsRescalable(int index) =>
        _layers[index].Role == LayerScalingRole.Rescalable && double.IsFinite(_layers[index].WeightRms) && _layers[index].WeightRms > 0;

    private double[] Ones()
    {
        double[] ones = new double[_layers.Length];
        Array.Fill(ones, 1.0);
        return ones;
    }
}
