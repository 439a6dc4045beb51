using System.Reflection;

namespace GradientDiagnostics;

/// <summary>
/// Configures a gradient monitor: its detectors and its protection. Set the properties in the configure callback of
/// <c>AttachGradientMonitor</c>, or pass an options object (a preset: <see cref="Quiet"/>, <see cref="Sensitive"/>);
/// they are validated once, at attach, and values out of range throw one <see cref="ArgumentOutOfRangeException"/>
/// naming every such option by its path (for example <c>Vanishing.MeanMagnitudeThreshold</c>).
/// They are also copied at attach: each detector, the clipping policy and the step cadence keep their own copy, so
/// changing this object after attach has no effect on a running monitor (attach a new monitor to change them).
/// </summary>
public sealed class GradientMonitorOptions
{
    // Every public property of a DetectorOptions type below is a registered detector: its one registration
    // line. Detectors run in the order declared here (those reading the clipping outcome after the clipping stage).
    private static readonly PropertyInfo[] DetectorProperties =
    [
        .. typeof(GradientMonitorOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => typeof(DetectorOptions).IsAssignableFrom(p.PropertyType))
            .OrderBy(p => p.MetadataToken),
    ];

    /// <summary>The NaN / ±Infinity detector.</summary>
    public NonFiniteOptions NonFinite { get; } = new();

    /// <summary>The vanishing-gradient detector.</summary>
    public VanishingOptions Vanishing { get; } = new();

    /// <summary>The exploding-gradient detector.</summary>
    public ExplodingOptions Exploding { get; } = new();

    /// <summary>The saturation detector (tanh / sigmoid layers stuck in their flat tails); needs activation statistics.</summary>
    public SaturationOptions Saturation { get; } = new();

    /// <summary>The dead-unit detector (ReLU / GELU units never active over a window); needs activation statistics.</summary>
    public DeadUnitsOptions DeadUnits { get; } = new();

    /// <summary>The poor-initialization detector (first steps only); needs activation statistics or weights with fan-in.</summary>
    public PoorInitializationOptions PoorInitialization { get; } = new();

    /// <summary>The update-ratio detector (‖Δw‖/‖w‖ per layer); needs the weights and their update norms.</summary>
    public UpdateRatioOptions UpdateRatio { get; } = new();

    /// <summary>The precision detector (16-bit layers whose gradients underflow or whose weight updates are lost).</summary>
    public PrecisionOptions Precision { get; } = new();

    /// <summary>Whether a step whose gradients or loss hold NaN or ±Infinity is marked
    /// <see cref="GradientStepResult.SkipStep"/>, so the optimizer step is not run and the weights stay finite.
    /// The gradients are left untouched for inspection. Turning this off is explicit.</summary>
    /// <value>The default value is <see langword="true"/>, as PyTorch's <c>GradScaler</c> skips non-finite steps.</value>
    public bool SkipNonFiniteSteps { get; set; } = true;

    /// <summary>The clipping policy <c>Step()</c> applies to the gradients after measuring them and before returning,
    /// for example <c>GradientClipping.ByGlobalNorm(1.0)</c>; see <see cref="GradientClipping"/>.</summary>
    /// <value>The default value is <see langword="null"/>: gradients are not changed (PyTorch does not clip by default).</value>
    public GradientClipping? Clipping { get; set; }

    /// <summary>The alert raised when <see cref="Clipping"/> acts on almost every step.</summary>
    public PersistentClippingOptions PersistentClipping { get; } = new();

    /// <summary>Whether the adapter probes the layers' outputs on full-statistics steps: it summarizes each probed
    /// layer's output (mean, variance, zero, saturated and per-unit active fractions, see
    /// <see cref="ActivationStatistics"/>) and keeps the output's gradient, from which ‖∂L/∂y‖ is read
    /// after backward (<see cref="LayerGradientStatistics.OutputGradientNorm"/>, and from it
    /// <see cref="GradientStepResult.DepthGain"/>). The depth profile and the <see cref="Saturation"/> and
    /// <see cref="DeadUnits"/> detectors need it. It costs time on full steps only, and holds each probed output, and after
    /// backward a copy of its gradient, until they are read (docs/performance.md).
    /// <list type="bullet">
    /// <item><see langword="null"/>: probes on, and the layers a forward hook cannot see are reported in one Information
    /// line (the user did not ask for probes).</item>
    /// <item><see langword="true"/>: probes on, and each cause of an unprobed or uncaptured layer is a Warning.</item>
    /// <item><see langword="false"/>: no probes; parameter gradients alone are measured, at the lowest cost.</item>
    /// </list></summary>
    /// <value>The default value is <see langword="null"/> (probes on at the <see cref="FullStatisticsInterval"/> cadence):
    /// measured at +0.4% of a plain training step, paired (docs/performance.md), so every detector enabled by default
    /// runs.</value>
    public bool? CaptureLayerOutputs { get; set; }

    /// <summary>Which layers are probed when <see cref="CaptureLayerOutputs"/> is on: a predicate over the layer's
    /// module path (for example <c>name =&gt; name.StartsWith("encoder.", StringComparison.Ordinal)</c>); null selects
    /// every layer. Only a layer whose output a forward hook can see is probed, whatever the filter says: in the TorchSharp
    /// adapter, not a layer computed inside a native module (<c>encoder.layers.0.linear1</c> inside
    /// <c>nn.TransformerEncoder</c>) nor a module whose forward signature has no forward hook. The adapter lists the
    /// layers it probes in <c>GradientMonitor.ProbedLayers</c>, and the others, with the reason, in
    /// <c>GradientMonitor.UnprobedLayers</c>.</summary>
    /// <value>The default value is <see langword="null"/>: every hookable layer is probed.</value>
    public Func<string, bool>? LayerOutputFilter { get; set; }

    /// <summary>The number of steps between full-statistics steps (<see cref="GradientStepKind.Full"/>), starting at
    /// step 0; the other steps are cheap (gradient norms and the NaN / ±Infinity check only). 1 makes every step full.</summary>
    /// <value>The default value is 20, in [1, 1 000 000]. Chosen by measurement (docs/performance.md): a full step with
    /// probes costs more than a cheap one (on a 50-layer MLP of width 512, ≈ 7–8 ms, about 12% of a plain training step; it
    /// was ≈ 70% before the probes were reworked), and one full step in 20 keeps the amortized cost of full statistics
    /// well under 5% of training time (0.2–1.2% measured for the probes), while a 2,000-step run still gets 100 depth
    /// profiles.</value>
    public int FullStatisticsInterval { get; set; } = 20;

    /// <summary>Whether full-statistics steps measure ‖θ_t − θ_{t−1}‖ per layer
    /// (<see cref="LayerObservation.ParameterUpdateNorm"/>): the change made by the single optimizer step just before
    /// the full step. It costs one copy of every trainable parameter, taken at the step before each full step.</summary>
    /// <value>The default value is <see langword="false"/>, so the parameter copy is never allocated unless asked for;
    /// enabling <see cref="UpdateRatio"/> turns the measurement on as well.</value>
    public bool CaptureParameterUpdates { get; set; }

    /// <summary>The gradient flow through time of recurrent layers: the per-time-step profile
    /// (<see cref="GradientStepResult.TimeProfiles"/>), its cadence, and the vanishing- and exploding-through-time
    /// detectors.</summary>
    public ThroughTimeOptions ThroughTime { get; } = new();

    /// <summary>Metrics, the summary log line, JSON Lines and TensorBoard output.</summary>
    public TelemetryOptions Telemetry { get; } = new();

    /// <summary>The bounds of the data kept for the HTML report.</summary>
    public ReportOptions Report { get; } = new();

    /// <summary>Validates every option and throws one exception naming every option out of range, each by its path
    /// (for example <c>Vanishing.RelativeNormThreshold</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">One or more options are out of their documented range: its
    /// <see cref="ArgumentException.ParamName"/> is the option's path, or the paths joined by ", " when several are, and
    /// its message has one line per option.</exception>
    public void Validate() => OptionGuard.ValidateAll(() =>
    {
        foreach ((string path, DetectorOptions detector) in Detectors)
        {
            detector.Validate(path);
        }

        ThroughTime.Validate(nameof(ThroughTime));
        Telemetry.Validate(nameof(Telemetry));
        Report.Validate(nameof(Report));
        OptionGuard.InRange(FullStatisticsInterval, 1, 1_000_000, nameof(FullStatisticsInterval));
    });

    /// <summary>A preset for investigating a run: every persistent detector fires on the first step its condition
    /// holds (1 of 1) with a cooldown of 10 steps, and the thresholds are one step tighter (vanishing ratio 1e-3,
    /// exploding ratio and global norm 1e3, spike z-score 4, saturation and dead units above 30%, weight scale off by
    /// 2× either way, activation variance ratio 5, changing 4× per layer). Expect more alerts, some of them on healthy runs.</summary>
    /// <returns>New options; change them further as needed.</returns>
    public static GradientMonitorOptions Sensitive()
    {
        var options = new GradientMonitorOptions();
        foreach (DetectorOptions detector in options.Detectors.Select(d => d.Options).Where(d => d is not PersistentClippingOptions))
        {
            detector.CooldownSteps = 10;
            if (detector is PersistentDetectorOptions persistent)
            {
                (persistent.Persistence, persistent.PersistenceWindow) = (1, 1);
            }
        }

        options.Vanishing.RelativeNormThreshold = 1e-3;
        options.Exploding.RelativeNormThreshold = 1e3;
        options.Exploding.GlobalNormThreshold = 1e3;
        options.Exploding.SpikeZScoreThreshold = 4;
        options.Saturation.SaturatedFractionThreshold = 0.3;
        options.DeadUnits.DeadFractionThreshold = 0.3;
        options.PoorInitialization.WeightStdFactor = 2;
        options.PoorInitialization.ReportSmallWeights = true;
        options.PoorInitialization.ActivationVarianceRatioThreshold = 5;
        options.PoorInitialization.ActivationVarianceRatioPerLayerThreshold = 4;
        return options;
    }

    /// <summary>A preset for long unattended runs: only clear, persistent problems are reported, each at most once per
    /// 1,000 steps. Vanishing needs 8 of the last 10 steps and a ratio of 1e-6; exploding needs a global norm above 1e5
    /// or a z-score above 10; saturation and dead units need more than 80% of a layer; the soft update-ratio warning is
    /// off (its band is widened to the hard band). Non-finite steps are still reported and skipped.</summary>
    /// <returns>New options; change them further as needed.</returns>
    public static GradientMonitorOptions Quiet()
    {
        var options = new GradientMonitorOptions();
        foreach (DetectorOptions detector in options.Detectors.Select(d => d.Options).Where(d => d is not PersistentClippingOptions))
        {
            detector.CooldownSteps = 1000;
        }

        (options.Vanishing.Persistence, options.Vanishing.PersistenceWindow) = (8, 10);
        options.Vanishing.RelativeNormThreshold = 1e-6;
        options.Exploding.GlobalNormThreshold = 1e5;
        options.Exploding.RelativeNormThreshold = 1e6;
        options.Exploding.SpikeZScoreThreshold = 10;
        options.Saturation.SaturatedFractionThreshold = 0.8;
        options.DeadUnits.DeadFractionThreshold = 0.8;
        options.UpdateRatio.SoftBandFactor = 1e6;
        return options;
    }

    /// <summary>The registered detectors (see <see cref="DetectorProperties"/>) with their option paths, in the order
    /// they run. Validation, the presets, the alert-kind mapping and the analyzer's detector list all come from it.</summary>
    internal IEnumerable<(string Path, DetectorOptions Options)> Detectors =>
        DetectorProperties.Select(p => (p.Name, (DetectorOptions)p.GetValue(this)!)).Concat(ThroughTime.Detectors);

    /// <summary>The registered detectors that judge a condition over several steps (k of n).</summary>
    internal IEnumerable<PersistentDetectorOptions> PersistentDetectors => Detectors.Select(d => d.Options).OfType<PersistentDetectorOptions>();
}
