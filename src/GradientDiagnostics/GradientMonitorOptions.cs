namespace GradientDiagnostics;

/// <summary>
/// Configures a gradient monitor: its detectors and its protection. Set the properties in the configure callback of
/// <c>AttachGradientMonitor</c>; they are validated once, at attach, and a value out of range throws an
/// <see cref="ArgumentOutOfRangeException"/> naming the option (for example <c>Vanishing.MeanMagnitudeThreshold</c>).
/// </summary>
public sealed class GradientMonitorOptions
{
    /// <summary>The vanishing-gradient detector.</summary>
    public VanishingGradientOptions Vanishing { get; } = new();

    /// <summary>The exploding-gradient detector.</summary>
    public ExplodingGradientOptions Exploding { get; } = new();

    /// <summary>The NaN / ±Infinity detector.</summary>
    public NonFiniteGradientOptions NonFinite { get; } = new();

    /// <summary>Whether a step whose gradients or loss hold NaN or ±Infinity is marked
    /// <see cref="GradientStepResult.SkipStep"/>, so the optimizer step is not run and the weights stay finite.
    /// The gradients are left untouched for inspection. Turning this off is explicit.</summary>
    /// <value>The default value is <see langword="true"/>, as PyTorch's <c>GradScaler</c> skips non-finite steps.</value>
    public bool SkipNonFiniteSteps { get; set; } = true;

    /// <summary>Whether the monitor probes the layers' outputs on full-statistics steps: a forward hook summarizes
    /// each probed layer's output (mean, variance, zero, saturated and per-unit active fractions, see
    /// <see cref="ActivationStatistics"/>) and inserts an identity autograd function whose backward measures
    /// ‖∂L/∂y‖ (<see cref="LayerGradientStatistics.OutputGradientNorm"/>, and from it
    /// <see cref="GradientStepResult.DepthGain"/>). Costs time on full steps and holds one extra tensor the size of each
    /// probed output until the backward pass; see docs/torchsharp.md.</summary>
    /// <value>The default value is <see langword="false"/>: parameter gradients alone are measured, at the lowest cost.</value>
    public bool CaptureLayerOutputs { get; set; }

    /// <summary>Which layers are probed when <see cref="CaptureLayerOutputs"/> is on: a predicate over the layer's
    /// module path (for example <c>name =&gt; name.StartsWith("encoder.", StringComparison.Ordinal)</c>); null probes
    /// every layer.</summary>
    /// <value>The default value is <see langword="null"/>: every layer (module owning trainable parameters) is probed.</value>
    public Func<string, bool>? LayerOutputFilter { get; set; }

    /// <summary>The number of steps between full-statistics steps (<see cref="GradientStepKind.Full"/>), starting at
    /// step 0; the other steps are cheap (gradient norms and the NaN / ±Infinity check only). 1 makes every step full.</summary>
    /// <value>The default value is 20, in [1, 1 000 000]. Chosen by measurement (docs/torchsharp.md): on a 30-layer
    /// MLP of width 256, a full step with probes costs about 70% of a plain training step more than a cheap step, so one
    /// full step in 20 keeps the amortized cost of full statistics under 5% of training time, while a 2,000-step run
    /// still gets 100 depth profiles.</value>
    public int FullStatisticsInterval { get; set; } = 20;

    /// <summary>Whether full-statistics steps measure ‖θ_t − θ_{t−1}‖ per layer
    /// (<see cref="LayerObservation.ParameterUpdateNorm"/>): the change made by the single optimizer step just before
    /// the full step. It costs one copy of every trainable parameter, taken at the step before each full step.</summary>
    /// <value>The default value is <see langword="false"/>, so the parameter copy is never allocated unless asked for.</value>
    public bool CaptureParameterUpdates { get; set; }

    /// <summary>Validates every option; throws <see cref="ArgumentOutOfRangeException"/> naming the first one out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its documented range.</exception>
    public void Validate()
    {
        Vanishing.Validate(nameof(Vanishing));
        Exploding.Validate(nameof(Exploding));
        NonFinite.Validate(nameof(NonFinite));
        OptionGuard.InRange(FullStatisticsInterval, 1, 1_000_000, nameof(FullStatisticsInterval));
    }
}
