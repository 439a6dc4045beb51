namespace GradientDiagnostics;

/// <summary>Options of the exploding-gradient detector.</summary>
/// <remarks>
/// The detector has four criteria, each with its own persistence gate: the global norm above a hard threshold
/// (<see cref="GlobalNormThreshold"/>), a layer far above the layers between it and the loss
/// (<see cref="RelativeNormThreshold"/>), the probed output gradients growing geometrically with depth
/// (<see cref="DepthGrowth"/>), and a spike of the global norm against its own history (<see cref="SpikeDetection"/>).
/// Defaults: persistence 1 of 1 (one explosion is enough to damage the weights) and a cooldown of 100 steps.
/// </remarks>
public sealed class ExplodingOptions : PersistentDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public ExplodingOptions()
        : base(persistence: 1, persistenceWindow: 1, cooldownSteps: 100)
    {
    }

    /// <summary>A global gradient L2 norm above this value explodes.</summary>
    /// <value>The default value is 1e4: four orders of magnitude above the clipping thresholds common recipes use
    /// (1.0 for BERT/GPT-style training, 0.25–5 in Pascanu, Mikolov &amp; Bengio 2013), so a healthy run does not reach it.</value>
    public double GlobalNormThreshold { get; set; } = 1e4;

    /// <summary>A layer whose gradient L2 norm is above this multiple of the smallest layer norm among the layers
    /// between it and the loss explodes: the back-propagated signal grows on its way to the input. The depth-growth
    /// criterion uses the same factor for g^depth.</summary>
    /// <value>The default value is 1e4, the mirror image of <see cref="VanishingOptions.RelativeNormThreshold"/>.</value>
    public double RelativeNormThreshold { get; set; } = 1e4;

    /// <summary>Whether the depth-growth criterion runs: on steps where layers' output gradients ‖∂L/∂y‖ were probed,
    /// the fitted per-layer gain g (<see cref="DepthProfile.FitGain"/>) raised to the number of probed layer-to-layer
    /// steps is compared with <see cref="RelativeNormThreshold"/>; above it, the signal explodes with depth.</summary>
    /// <value>The default value is <see langword="true"/>. A healthy 30-layer ReLU + He MLP at init has g^29 ≈ 1; three
    /// times the He scale gives g^29 ≈ 3^29 ≈ 7e13 (measured: docs/detectors.md#depth-decay-and-depth-growth).</value>
    public bool DepthGrowth { get; set; } = true;

    /// <summary>Whether the spike criterion runs: the global norm is compared with its own history, by an EMA z-score
    /// (<see cref="SpikeZScoreThreshold"/>) and against the largest norm of the first steps
    /// (<see cref="SpikeFactorOverEarlyMax"/>). Reported with metric <see cref="GradientMetricNames.GlobalGradientNormZScore"/>
    /// or <see cref="GradientMetricNames.GlobalGradientNormRatioToEarlyMax"/>.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool SpikeDetection { get; set; } = true;

    /// <summary>A global norm whose z-score against the exponential moving mean and standard deviation of earlier
    /// global norms is above this value is a spike.</summary>
    /// <value>The default value is 6. ZClip (Kumar et al. 2025) clips at z = 2.5, a trigger meant to act silently on a
    /// few percent of steps; an alert must be rare. Gradient norms are heavy-tailed and an EMA over ~33 steps has a
    /// noisy σ, so z = 6 (a Gaussian tail of ~1e-9) keeps a healthy run quiet while a 10× jump over a stable run
    /// scores in the tens.</value>
    public double SpikeZScoreThreshold { get; set; } = 6;

    /// <summary>A z-score spike is reported only when the global norm is also at least this multiple of its moving
    /// mean, and (once the first <see cref="EarlySteps"/> steps are over) above the largest norm of those steps: a high
    /// z-score on a quiet run can be a benign fluctuation, and norms fall as training proceeds, so returning to the
    /// starting scale is no explosion. Must be ≥ 1.</summary>
    /// <value>The default value is 5. On a healthy 10,000-step run the z-score alone raised alerts on ordinary batches, whose
    /// loss was the median's; above this floor only outlier batches remained (measured: docs/detectors.md#spike-floor).</value>
    public double SpikeMinFactorOverMean { get; set; } = 5;

    /// <summary>Whether a z-score spike that the step's loss explains is taken for an outlier batch and not reported: the
    /// loss given to the step, over the median of the last 100 losses, rose at least as much as the global norm over the
    /// median of the last 100 norms, and the previous step's norm was below <see cref="SpikeMinFactorOverMean"/> × the
    /// moving mean (a one-step jump, not a norm that keeps growing). A spike with a steady loss, a step without a loss,
    /// the <see cref="SpikeFactorOverEarlyMax"/> criterion and <see cref="GlobalNormThreshold"/> are judged as before.</summary>
    /// <value>The default value is <see langword="true"/>. A batch harder than usual raises its loss at least as much as its
    /// gradient norm (MSE: the loss goes with the squared residual, the gradient with the residual; cross-entropy: the
    /// logit gradient is bounded), while an explosion raises the norm first or keeps growing. On a healthy 10,000-step
    /// regression every spike alert was such a batch (loss ratio at least 3.8× the norm ratio); a divergence whose first
    /// jump is already 5× is reported one step later (measured: docs/detectors.md#outlier-batches).</value>
    public bool IgnoreOutlierBatches { get; set; } = true;

    /// <summary>The decay α of the exponential moving mean and variance of the global norm: μ ← α·μ + (1 − α)·‖g‖.
    /// Must be in (0, 1).</summary>
    /// <value>The default value is 0.97, ZClip's α (Kumar et al. 2025).</value>
    public double SpikeEmaDecay { get; set; } = 0.97;

    /// <summary>The number of first steps whose global norms initialize the moving statistics (plain mean and
    /// variance) before the z-score is judged. Must be in [2, 100000].</summary>
    /// <value>The default value is 25, ZClip's warm-up.</value>
    public int SpikeWarmupSteps { get; set; } = 25;

    /// <summary>A global norm at least this multiple of the largest global norm of the first <see cref="EarlySteps"/>
    /// steps is a spike. Must be &gt; 1.</summary>
    /// <value>The default value is 10, the threshold Megatron-LM's rerun state machine uses for "unexpectedly large"
    /// losses and gradients (<c>is_unexpectedly_large(..., threshold=10)</c>).</value>
    public double SpikeFactorOverEarlyMax { get; set; } = 10;

    /// <summary>The number of first steps whose largest global norm is the reference of <see cref="SpikeFactorOverEarlyMax"/>.
    /// Must be in [1, 100000].</summary>
    /// <value>The default value is 100, Megatron-LM's <c>num_samples</c> default in <c>is_unexpectedly_large</c>.</value>
    public int EarlySteps { get; set; } = 100;

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.Positive(GlobalNormThreshold, $"{path}.{nameof(GlobalNormThreshold)}");
        OptionGuard.InOpenRange(RelativeNormThreshold, 1, double.MaxValue, $"{path}.{nameof(RelativeNormThreshold)}");
        OptionGuard.Positive(SpikeZScoreThreshold, $"{path}.{nameof(SpikeZScoreThreshold)}");
        OptionGuard.InClosedRange(SpikeMinFactorOverMean, 1, double.MaxValue, $"{path}.{nameof(SpikeMinFactorOverMean)}");
        OptionGuard.InOpenRange(SpikeEmaDecay, 0, 1, $"{path}.{nameof(SpikeEmaDecay)}");
        OptionGuard.InRange(SpikeWarmupSteps, 2, 100_000, $"{path}.{nameof(SpikeWarmupSteps)}");
        OptionGuard.InOpenRange(SpikeFactorOverEarlyMax, 1, double.MaxValue, $"{path}.{nameof(SpikeFactorOverEarlyMax)}");
        OptionGuard.InRange(EarlySteps, 1, 100_000, $"{path}.{nameof(EarlySteps)}");
    }

    internal override AlertKindEvent AlertEvent { get; } = new(GradientAlertKind.Exploding, "Exploding", AboutGradient: true);

    internal override IGradientDetector? CreateDetector(DetectorContext context) => new ExplodingGradientDetector(this, context.ClippingConfigured);
}
