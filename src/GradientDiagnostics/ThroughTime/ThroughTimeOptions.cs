namespace GradientDiagnostics;

/// <summary>
/// Options of the gradient flow through time: the per-time-step profile of every recurrent layer the adapter can see
/// (<see cref="GradientStepResult.TimeProfiles"/>, one <see cref="RecurrentTimeProfile"/> per layer) and the two
/// detectors that read it, <see cref="Vanishing"/> and <see cref="Exploding"/>. See docs/recurrent.md for the method
/// and what it costs.
/// </summary>
/// <remarks>
/// In a recurrent network time is depth: back-propagation through time multiplies one Jacobian
/// ∂h_t/∂h_{t−1} = diag(f′)·W_hh per step, so over T steps the signal changes by about γᵀ (Bengio, Simard &amp; Frasconi
/// 1994; Pascanu, Mikolov &amp; Bengio 2013). The adapter measures ‖∂L/∂h_t‖ at each step and the gain of each step; a cell
/// called once per step is probed directly, a fused native module is re-run one step at a time on a few sequences.
/// </remarks>
public sealed class ThroughTimeOptions
{
    /// <summary>Whether the time profile is measured. Without a recurrent layer nothing is measured and nothing costs.</summary>
    /// <value>The default value is <see langword="true"/>: it costs only on measuring steps (see <see cref="Interval"/>).</value>
    public bool Enabled { get; set; } = true;

    /// <summary>The number of steps between measuring steps, from step 0; null measures on the full-statistics steps
    /// (<see cref="GradientMonitorOptions.FullStatisticsInterval"/>). Must be in [1, 1 000 000] when set.</summary>
    /// <value>The default value is 200. A measuring step costs about 4.6 plain steps on a 2-layer LSTM (hidden 256,
    /// sequence 100): +23 % of the whole step at the full-statistics cadence of 20, about +2.3 % at 200, within the 5 % the
    /// time profile may add (measured: docs/performance.md#todays-figures). A memory horizon changes slowly over
    /// training, and the preflight (<c>CheckGradientFlow</c>) shows it before step 1.</value>
    public int? Interval { get; set; } = DefaultInterval;

    /// <summary>The default <see cref="Interval"/>.</summary>
    internal const int DefaultInterval = 200;

    /// <summary>The fraction of its size at the loss below which the back-propagated signal counts as lost:
    /// <see cref="RecurrentTimeProfile.MemoryHorizon"/> is the number of steps back it stays at or above this fraction.
    /// Must be in (0, 1).</summary>
    /// <value>The default value is 0.01: two orders of magnitude, the scale at which a dependency's gradient is swamped by
    /// the short-range ones it is summed with (the definition; Bengio, Simard &amp; Frasconi 1994 show the long-range
    /// share decays exponentially).</value>
    public double HorizonFraction { get; set; } = 0.01;

    /// <summary>For a fused native module (<c>nn.RNN</c>, <c>nn.LSTM</c>, <c>nn.GRU</c>), the most sequences of the batch the
    /// diagnostic pass re-runs one step at a time. Must be in [1, 4096].</summary>
    /// <value>The default value is 8: the per-step gains of a batch's sequences share the weights and differ only through
    /// the activations' derivatives, so a few sequences give the profile while the re-run's cost stays a small part of
    /// the step (docs/recurrent.md).</value>
    public int MaxSequences { get; set; } = 8;

    /// <summary>The vanishing-through-time detector: the memory horizon is short against the sequence length.</summary>
    public VanishingThroughTimeOptions Vanishing { get; } = new();

    /// <summary>The exploding-through-time detector: the signal grows step after step back through the sequence.</summary>
    public ExplodingThroughTimeOptions Exploding { get; } = new();

    /// <summary>The two detectors with their option paths, registered with the others (see
    /// <see cref="GradientMonitorOptions.Validate"/>).</summary>
    internal IEnumerable<(string Path, DetectorOptions Options)> Detectors =>
        [($"{nameof(GradientMonitorOptions.ThroughTime)}.{nameof(Vanishing)}", Vanishing),
         ($"{nameof(GradientMonitorOptions.ThroughTime)}.{nameof(Exploding)}", Exploding)];

    internal void Validate(string path)
    {
        if (Interval is int interval)
        {
            OptionGuard.InRange(interval, 1, 1_000_000, $"{path}.{nameof(Interval)}");
        }

        OptionGuard.InOpenRange(HorizonFraction, 0, 1, $"{path}.{nameof(HorizonFraction)}");
        OptionGuard.InRange(MaxSequences, 1, 4096, $"{path}.{nameof(MaxSequences)}");
    }
}
