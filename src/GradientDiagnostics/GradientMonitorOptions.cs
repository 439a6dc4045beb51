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

    /// <summary>Metrics, the summary log line, JSON Lines and TensorBoard output.</summary>
    public GradientTelemetryOptions Telemetry { get; } = new();

    /// <summary>The bounds of the data kept for the HTML report.</summary>
    public GradientReportOptions Report { get; } = new();

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

    /// <summary>Validates every option; throws <see cref="ArgumentOutOfRangeException"/> naming the first one out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its documented range.</exception>
    public void Validate()
    {
        Vanishing.Validate(nameof(Vanishing));
        Exploding.Validate(nameof(Exploding));
        NonFinite.Validate(nameof(NonFinite));
        PersistentClipping.Validate(nameof(PersistentClipping));
        Telemetry.Validate(nameof(Telemetry));
        Report.Validate(nameof(Report));
    }
}
