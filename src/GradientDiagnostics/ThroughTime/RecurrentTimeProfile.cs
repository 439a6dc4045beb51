namespace GradientDiagnostics;

/// <summary>
/// How the gradient of one recurrent layer travels back through time at one measured step: ‖∂L/∂h_t‖ at every time
/// step, the per-step gain, and the memory horizon (how many steps back the signal stays above
/// <see cref="ThroughTimeOptions.HorizonFraction"/> of its size at the loss). One profile per recurrent layer (and per
/// stacked layer and direction of a fused multi-layer or bidirectional module); see <see cref="GradientStepResult.TimeProfiles"/>.
/// A layer the adapter could not measure at this step has a profile too, with <see cref="NotMeasuredReason"/> set and
/// empty or null figures, so a missing measurement is never silent.
/// </summary>
/// <remarks>An adapter creates a profile with the layer's identity and the evidence its weights give, then hands the
/// measured per-step norms to <see cref="WithStepNorms"/>, which derives the gains and the horizon here, once for every
/// reader; or it calls <see cref="AsNotMeasured"/> with the reason.</remarks>
public sealed record RecurrentTimeProfile
{

    /// <summary>The module path of the recurrent layer (a fused <c>nn.RNN</c>/<c>nn.LSTM</c>/<c>nn.GRU</c>, or a cell called
    /// once per time step).</summary>
    public required string Layer { get; init; }

    /// <summary>The recurrent unit, in PyTorch's mode names: <c>RNN_TANH</c>, <c>RNN_RELU</c>, <c>LSTM</c> or <c>GRU</c>.</summary>
    public required string Unit { get; init; }

    /// <summary>The index of the stacked layer within a fused multi-layer module (the <c>k</c> of its <c>weight_hh_l{k}</c>);
    /// 0 for a single-layer module and for a cell.</summary>
    public int StackedLayer { get; init; }

    /// <summary>True for the reverse direction of a bidirectional module (parameters <c>…_reverse</c>). Its
    /// <see cref="GradientNorms"/> are still in time order; "steps back" counts from the sequence's start, where its
    /// recurrence ends.</summary>
    public bool Reverse { get; init; }

    /// <summary>The number of time steps T of the measured sequence.</summary>
    public int SequenceLength { get; internal init; }

    /// <summary>The number of sequences the norms are taken over: the whole batch for a cell loop, the sub-batch of the
    /// diagnostic pass for a fused module (<see cref="ThroughTimeOptions.MaxSequences"/>).</summary>
    public int SequenceCount { get; init; }

    /// <summary>Whether the profile comes from a diagnostic pass that re-ran the fused module one step at a time with its
    /// own weights (true), or from probes on a cell called once per step (false).</summary>
    public bool Replayed { get; init; }

    /// <summary>‖∂L/∂h_t‖ for t = 0 … T−1, in time order: the L2 norm over the measured sequences of the total gradient of
    /// the loss with respect to the layer's state after step t (direct from the loss plus back-propagated through later
    /// steps). For an LSTM the norm is over (h_t, c_t) together. Empty when not measured.</summary>
    public IReadOnlyList<double> GradientNorms { get; internal init; } = [];

    /// <summary>The gain of each step t = 0 … T−1: ‖J_tᵀ g_t‖ / ‖g_t‖, where g_t = ∂L/∂h_t and J_t = ∂h_t/∂h_{t−1} is the
    /// step's state Jacobian (Pascanu, Mikolov &amp; Bengio 2013, eq. 9): the factor by which the signal changes crossing
    /// from step t back to step t−1 (to the initial state for t = 0). Exact also when the loss is applied at every step.
    /// NaN where g_t = 0. Empty when not measured.</summary>
    public IReadOnlyList<double> StepGains { get; internal init; } = [];

    /// <summary>The per-step gain γ: the geometric mean of <see cref="StepGains"/> (the finite, positive ones). 1 means the
    /// signal keeps its size from step to step, below 1 it vanishes through time, above 1 it explodes. NaN when not
    /// measured.</summary>
    public double GainPerStep { get; internal init; } = double.NaN;

    /// <summary>How many steps back from the last step the back-propagated signal stays at or above
    /// <see cref="ThroughTimeOptions.HorizonFraction"/> of its size at the loss: the largest k such that the product of
    /// the last k <see cref="StepGains"/> stays at or above the fraction. Taken from the product of gains rather than the
    /// norms, so a loss applied at every step (which keeps the total norms up) does not hide the decay; for a loss at
    /// the last step only, it equals the ratio of <see cref="GradientNorms"/>. Null when the signal never falls below the
    /// fraction within the sequence (or when not measured).</summary>
    public int? MemoryHorizon { get; internal init; }

    /// <summary>The fraction of its size at the loss that <see cref="MemoryHorizon"/> counts from
    /// (<see cref="ThroughTimeOptions.HorizonFraction"/> when measured).</summary>
    public double HorizonFraction { get; internal init; }

    /// <summary>The largest singular value of the recurrent weight W_hh, read on the measuring step. For gated units, the
    /// largest over the gate blocks of W_hh (each block H × H, in PyTorch's gate order), the block being named by
    /// <see cref="SpectralNormGate"/> and all of them listed in <see cref="GateSpectralNorms"/>. Null when not read.</summary>
    public double? RecurrentSpectralNorm { get; init; }

    /// <summary>Which gate block of W_hh <see cref="RecurrentSpectralNorm"/> belongs to: <c>i</c>, <c>f</c>, <c>g</c> or
    /// <c>o</c> for an LSTM, <c>r</c>, <c>z</c> or <c>n</c> for a GRU; null for a vanilla RNN, whose W_hh is one block.</summary>
    public string? SpectralNormGate { get; init; }

    /// <summary>The largest singular value of each gate block of W_hh, in PyTorch's gate order (LSTM i | f | g | o, GRU
    /// r | z | n); empty for a vanilla RNN.</summary>
    public IReadOnlyList<double> GateSpectralNorms { get; init; } = [];

    /// <summary>For an LSTM (forget gate) or a GRU (update gate): the mean over units of the retention timescale
    /// −1/ln σ(b), in steps, where b = b_ih + b_hh is the gate's effective bias (rows [H, 2H) of both bias vectors). For
    /// the GRU the gate z keeps the old state (h_t = (1 − z)·n + z·h_{t−1}), so σ(b) is its retention as σ(b_f) is the
    /// LSTM's. Null for a vanilla RNN or a layer without biases.</summary>
    public double? ForgetTimescale { get; init; }

    /// <summary>Why this layer was not measured at this step (for example a <c>PackedSequence</c> call, which bypasses
    /// forward hooks); null when it was.</summary>
    public string? NotMeasuredReason { get; internal init; }

    /// <summary>Whether the layer was measured at this step (<see cref="NotMeasuredReason"/> is null).</summary>
    public bool Measured => NotMeasuredReason is null;

    /// <summary>The name telemetry gives this profile (TensorBoard tags, the metrics' layer tag, the report): the
    /// <see cref="Layer"/> path, with <c>.l{k}</c> for a stacked layer k ≥ 1 of a fused module and <c>.reverse</c> for the
    /// reverse direction (PyTorch's parameter suffixes), so every profile of a step has its own name.</summary>
    public string Name => Layer + (StackedLayer > 0 ? $".l{StackedLayer}" : string.Empty) + (Reverse ? ".reverse" : string.Empty);

    /// <summary>This profile with the figures measured at one step: ‖∂L/∂h_t‖ and ‖J_tᵀ g_t‖ for every time step, from
    /// which <see cref="StepGains"/>, <see cref="GainPerStep"/> and <see cref="MemoryHorizon"/> are derived.</summary>
    /// <param name="gradientNorms">‖g_t‖ = ‖∂L/∂h_t‖ for t = 0 … T−1 in time order (over (h, c) for an LSTM).</param>
    /// <param name="consumedNorms">‖J_tᵀ g_t‖ for t = 0 … T−1 in time order: the norm of the gradient that step t's
    /// computation sends to the state it read (h_{t−1}, or h_{t+1} for a <see cref="Reverse"/> direction), without
    /// the loss's direct part.</param>
    /// <param name="horizonFraction">The fraction <see cref="MemoryHorizon"/> counts from
    /// (<see cref="ThroughTimeOptions.HorizonFraction"/>), in (0, 1).</param>
    /// <returns>A new profile; this one is unchanged.</returns>
    /// <exception cref="ArgumentException">The two lists differ in length.</exception>
    public RecurrentTimeProfile WithStepNorms(IReadOnlyList<double> gradientNorms, IReadOnlyList<double> consumedNorms, double horizonFraction)
    {
        ArgumentNullException.ThrowIfNull(gradientNorms);
        ArgumentNullException.ThrowIfNull(consumedNorms);
        if (gradientNorms.Count != consumedNorms.Count)
        {
            throw new ArgumentException($"Expected one consumed norm per step ({gradientNorms.Count}), got {consumedNorms.Count}.", nameof(consumedNorms));
        }

        var gains = new double[gradientNorms.Count];
        for (int t = 0; t < gains.Length; t++)
        {
            gains[t] = gradientNorms[t] > 0 ? consumedNorms[t] / gradientNorms[t] : double.NaN;
        }

        return this with
        {
            GradientNorms = [.. gradientNorms],
            StepGains = gains,
            SequenceLength = gains.Length,
            GainPerStep = TimeProfileFigures.GainPerStep(gains),
            HorizonFraction = horizonFraction,
            MemoryHorizon = TimeProfileFigures.MemoryHorizon(SignalBack(gains, Reverse), horizonFraction),
            NotMeasuredReason = null,
        };
    }

    /// <summary>The signal's size k steps back along the recurrence (<see cref="TimeProfileFigures.SignalBack"/>).</summary>
    internal double[] SignalBack() => SignalBack(StepGains, Reverse);

    // Back along the recurrence: towards t = 0 for a forward direction, towards t = T−1 for a reverse one.
    private static double[] SignalBack(IReadOnlyList<double> gains, bool reverse) =>
        TimeProfileFigures.SignalBack(reverse ? [.. Enumerable.Reverse(gains)] : gains);

    /// <summary>This profile marked as not measured at this step, with the reason; its figures are empty.</summary>
    /// <param name="reason">Why, in a sentence a user can act on.</param>
    /// <param name="sequenceLength">The sequence length seen, when known (0 otherwise).</param>
    /// <returns>A new profile.</returns>
    public RecurrentTimeProfile AsNotMeasured(string reason, int sequenceLength = 0) => this with
    {
        NotMeasuredReason = reason,
        SequenceLength = sequenceLength,
        GradientNorms = [],
        StepGains = [],
        GainPerStep = double.NaN,
        MemoryHorizon = null,
    };
}
