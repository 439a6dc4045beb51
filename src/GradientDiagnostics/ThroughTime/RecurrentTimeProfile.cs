namespace GradientDiagnostics;

/// <summary>
/// How the gradient of one recurrent layer travels back through time at one measured step: ‖∂L/∂h_t‖ at every time
/// step, the per-step gain, and the memory horizon (how many steps back the signal stays above
/// <see cref="ThroughTimeOptions.HorizonFraction"/> of its size at the loss). One profile per recurrent layer (and per
/// stacked layer and direction of a fused multi-layer or bidirectional module); see <see cref="GradientStepResult.TimeProfiles"/>.
/// A layer the adapter could not measure at this step has a profile too, with <see cref="NotMeasuredReason"/> set and
/// empty or null figures, so a missing measurement is never silent.
/// </summary>
public sealed record RecurrentTimeProfile
{
    internal RecurrentTimeProfile()
    {
    }

    /// <summary>The module path of the recurrent layer (a fused <c>nn.RNN</c>/<c>nn.LSTM</c>/<c>nn.GRU</c>, or a cell called
    /// once per time step).</summary>
    public string Layer { get; internal init; } = "";

    /// <summary>The recurrent unit, in PyTorch's mode names: <c>RNN_TANH</c>, <c>RNN_RELU</c>, <c>LSTM</c> or <c>GRU</c>.</summary>
    public string Unit { get; internal init; } = "";

    /// <summary>The index of the stacked layer within a fused multi-layer module (the <c>k</c> of its <c>weight_hh_l{k}</c>);
    /// 0 for a single-layer module and for a cell.</summary>
    public int StackedLayer { get; internal init; }

    /// <summary>True for the reverse direction of a bidirectional module (parameters <c>…_reverse</c>). Its
    /// <see cref="GradientNorms"/> are still in time order; "steps back" counts from the sequence's start, where its
    /// recurrence ends.</summary>
    public bool Reverse { get; internal init; }

    /// <summary>The number of time steps T of the measured sequence.</summary>
    public int SequenceLength { get; internal init; }

    /// <summary>The number of sequences the norms are taken over: the whole batch for a cell loop, the sub-batch of the
    /// diagnostic pass for a fused module (<see cref="ThroughTimeOptions.MaxSequences"/>).</summary>
    public int SequenceCount { get; internal init; }

    /// <summary>Whether the profile comes from a diagnostic pass that re-ran the fused module one step at a time with its
    /// own weights (true), or from probes on a cell called once per step (false).</summary>
    public bool Replayed { get; internal init; }

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
    public double? RecurrentSpectralNorm { get; internal init; }

    /// <summary>Which gate block of W_hh <see cref="RecurrentSpectralNorm"/> belongs to: <c>i</c>, <c>f</c>, <c>g</c> or
    /// <c>o</c> for an LSTM, <c>r</c>, <c>z</c> or <c>n</c> for a GRU; null for a vanilla RNN, whose W_hh is one block.</summary>
    public string? SpectralNormGate { get; internal init; }

    /// <summary>The largest singular value of each gate block of W_hh, in PyTorch's gate order (LSTM i | f | g | o, GRU
    /// r | z | n); empty for a vanilla RNN.</summary>
    public IReadOnlyList<double> GateSpectralNorms { get; internal init; } = [];

    /// <summary>For an LSTM (forget gate) or a GRU (update gate): the mean over units of the retention timescale
    /// −1/ln σ(b), in steps, where b = b_ih + b_hh is the gate's effective bias (rows [H, 2H) of both bias vectors). For
    /// the GRU the gate z keeps the old state (h_t = (1 − z)·n + z·h_{t−1}), so σ(b) is its retention as σ(b_f) is the
    /// LSTM's. Null for a vanilla RNN or a layer without biases.</summary>
    public double? ForgetTimescale { get; internal init; }

    /// <summary>Why this layer was not measured at this step (for example a <c>PackedSequence</c> call, which bypasses
    /// forward hooks); null when it was.</summary>
    public string? NotMeasuredReason { get; internal init; }

    /// <summary>Whether the layer was measured at this step (<see cref="NotMeasuredReason"/> is null).</summary>
    public bool Measured => NotMeasuredReason is null;
}
