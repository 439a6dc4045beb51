namespace GradientDiagnostics;

/// <summary>Options of the poor-initialization detector, which judges the init once per criterion: on the first step,
/// within the first <see cref="InitialSteps"/> steps, at which the criterion's inputs are measured.</summary>
/// <remarks>
/// Two criteria: the activation variances of the measured layers differ by more than
/// <see cref="ActivationVarianceRatioThreshold"/>, changing by more than <see cref="ActivationVarianceRatioPerLayerThreshold"/>
/// per layer somewhere (a signal that grows or dies with depth in the forward pass), and a
/// layer's weight standard deviation is off the Xavier / He expectation for its fan-in, fan-out and following
/// activation by more than <see cref="WeightStdFactor"/>. Each criterion is judged once, so there is no persistence
/// (a k-of-n rule could never be met); the cooldown of 100 steps is kept for the options' shape.
/// </remarks>
public sealed class PoorInitializationOptions : DetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public PoorInitializationOptions()
        : base(cooldownSteps: 100)
    {
    }

    /// <summary>The number of first steps within which the detector judges the init; a criterion whose inputs are first
    /// measured later is not judged. Must be in [1, 100000].</summary>
    /// <value>The default value is 10: SageMaker Debugger PoorWeightInitialization's <c>steps</c>.</value>
    public int InitialSteps { get; set; } = 10;

    /// <summary>The largest over the smallest pre-activation variance across the measured hidden layers followed by ReLU,
    /// leaky ReLU or GELU (not the last layer, whose output scale the loss sets; not tanh or sigmoid layers, whose
    /// variance shrinks with depth even at a good init) above which the init is poor. Must be &gt; 1.</summary>
    /// <value>The default value is 10: SageMaker Debugger PoorWeightInitialization's <c>threshold</c>.</value>
    public double ActivationVarianceRatioThreshold { get; set; } = 10;

    /// <summary>The variance criterion also needs a steep spread: between two compared layers i &lt; j, the variance ratio
    /// taken per layer, (v_j / v_i)^(1/(j − i)) or its inverse, must be above this factor for at least one pair. Judging
    /// the factor per layer makes the criterion depth-aware: a shallow network reaches a 10× spread at an accepted init,
    /// while a poor init compounds its per-layer factor with depth. Must be &gt; 1.</summary>
    /// <value>The default value is 9, the square of <see cref="WeightStdFactor"/>'s 3: a ReLU layer whose weight std is
    /// at the edge of the accepted band (3× or 1/3× He) changes the variance by 9×, while TorchSharp's default Linear
    /// init (0.41× He), which that band accepts, changes it by 6×; 4× or 1/4× He changes it by 16×
    /// (measured: docs/detectors.md#poor-initialization-is-judged-per-layer).</value>
    public double ActivationVarianceRatioPerLayerThreshold { get; set; } = 9;

    /// <summary>A layer's weight standard deviation more than this factor above (or, with <see cref="ReportSmallWeights"/>,
    /// below) the Xavier
    /// (√(2/(fan_in+fan_out)), Glorot &amp; Bengio 2010) or He (√(2/fan_in), He et al. 2015) expectation is poor.
    /// Must be &gt; 1.</summary>
    /// <value>The default value is 3. PyTorch's and TorchSharp's default Linear init (Kaiming-uniform with a = √5,
    /// σ = 1/√(3·fan_in)) is 0.41× He and 0.58× Xavier for square layers and is an accepted default, so the band
    /// must include it; a 3× error changes the per-layer gain by 3, that is 3^10 ≈ 6e4 over ten layers.</value>
    public double WeightStdFactor { get; set; } = 3;

    /// <summary>Whether weights far below the expectation are reported too, not only weights far above it.</summary>
    /// <value>The default value is <see langword="false"/>. A small init is often intended: residual branches are
    /// initialised near zero on purpose (Goyal et al. 2017, zero-initialised last BatchNorm γ of each block; Zhang et al.
    /// 2019, Fixup), and when it is not intended its effect is a vanishing signal, which the vanishing detector reports
    /// with the same weight-std evidence in its diagnosis. A too-large init has no such use.</value>
    public bool ReportSmallWeights { get; set; }

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.InRange(InitialSteps, 1, 100_000, $"{path}.{nameof(InitialSteps)}");
        OptionGuard.InOpenRange(ActivationVarianceRatioThreshold, 1, double.MaxValue, $"{path}.{nameof(ActivationVarianceRatioThreshold)}");
        OptionGuard.InOpenRange(ActivationVarianceRatioPerLayerThreshold, 1, double.MaxValue, $"{path}.{nameof(ActivationVarianceRatioPerLayerThreshold)}");
        OptionGuard.InOpenRange(WeightStdFactor, 1, double.MaxValue, $"{path}.{nameof(WeightStdFactor)}");
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.PoorInitialization, "PoorInitialization", AboutGradient: false);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new PoorInitializationDetector(this);
}
