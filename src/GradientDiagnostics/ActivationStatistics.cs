namespace GradientDiagnostics;

/// <summary>
/// A summary of one layer's forward output at one step, over the batch: what the saturation, dead-unit and
/// initialization detectors need. "Units" are the output features (the last dimension of a Linear output, the
/// channel dimension of a Conv output).
/// </summary>
public sealed class ActivationStatistics
{
    /// <summary>The number of output elements summarized.</summary>
    public long ElementCount { get; init; }

    /// <summary>The mean of the output elements.</summary>
    public double Mean { get; init; }

    /// <summary>The population variance of the output elements.</summary>
    public double Variance { get; init; }

    /// <summary>The fraction of output elements exactly zero, in [0, 1].</summary>
    public double ZeroFraction { get; init; }

    /// <summary>The fraction of output elements in the saturated range of <see cref="LayerDescriptor.FollowingActivation"/>
    /// (SageMaker Debugger SaturatedActivation semantics: tanh pre-activation |x| &gt; 9.4999; sigmoid pre-activation
    /// &lt; −23 or &gt; 16.99999), in [0, 1]; null when that activation does not saturate or is unknown.</summary>
    public double? SaturatedFraction { get; init; }

    /// <summary>Per unit, the fraction of the batch on which the unit was active (output &gt; 0 after the following
    /// activation) at this step; empty when not measured. Feeds the dead-unit detector's window.</summary>
    public ReadOnlyMemory<float> UnitActiveFraction { get; init; }
}
