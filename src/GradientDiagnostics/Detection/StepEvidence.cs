namespace GradientDiagnostics;

/// <summary>Everything the detectors may look at for one step, with the facts several of them share computed once
/// here (the probed layers, the fitted depth gain). Valid only during the step: detectors copy what they keep.</summary>
internal sealed class StepEvidence
{
    public StepEvidence(long step, double? loss, double globalNorm, LayerGradientStatistics[] layers, LayerDescriptor[] descriptors, GradientHistory history,
        TensorStatistics?[]? lastParameters = null)
    {
        _lastParameters = lastParameters;
        Step = step;
        Loss = loss;
        GlobalNorm = globalNorm;
        Layers = layers;
        Descriptors = descriptors;
        History = history;

        FirstProbed = Array.Find(layers, l => l.OutputGradientNorm is not null);
        (DepthGain, ProbedLayers) = DepthProfile.FitProbed<LayerGradientStatistics>(layers, static l => l.OutputGradientNorm);
    }

    private readonly TensorStatistics?[]? _lastParameters;

    public long Step { get; }

    public double? Loss { get; }

    public double GlobalNorm { get; }

    /// <summary>The per-layer records in forward order (the last is closest to the loss): gradient statistics and
    /// whatever else was measured (weights, update norm, output gradient, activations). The step result carries the same.</summary>
    public LayerGradientStatistics[] Layers { get; }

    /// <summary>Per-layer static descriptions, in the order of <see cref="Layers"/>.</summary>
    public LayerDescriptor[] Descriptors { get; }

    /// <summary>The fitted per-layer gain of the output-gradient norms (<see cref="DepthProfile.FitGain"/>); null when fewer than two layers were
    /// probed.</summary>
    public double? DepthGain { get; }

    /// <summary>The number of layers whose output gradient was probed at this step.</summary>
    public int ProbedLayers { get; }

    /// <summary>The probed layer closest to the input, where the depth criteria report; null when no layer was probed.</summary>
    public LayerGradientStatistics? FirstProbed { get; }

    /// <summary>The module path whose forward output was the first non-finite one in this step's forward pass while its
    /// inputs were finite (<see cref="NonFiniteOptions.TraceOrigin"/>); null when not traced or finite.</summary>
    public string? ForwardOrigin { get; init; }

    /// <summary>Whether the analyzer told the previous step to be skipped (<see cref="GradientStepResult.SkipStep"/>): its
    /// optimizer step was not applied, so a weight left unchanged by it says nothing about precision.</summary>
    public bool PreviousStepSkipped { get; init; }

    /// <summary>True when this step's gradients overflowed while dynamic loss scaling ran at a scale above 1: the scaler's
    /// routine probe of the largest usable scale (GradScaler overflows now and then by design, then halves the scale), not
    /// a fault of the model. The step is skipped all the same.</summary>
    public bool LossScaleProbeOverflow { get; init; }

    /// <summary>The recurrent layers' time profiles measured at this step (<see cref="GradientStepResult.TimeProfiles"/>);
    /// empty on steps that measure none.</summary>
    public IReadOnlyList<RecurrentTimeProfile> TimeProfiles { get; init; } = [];

    /// <summary>The history up to, not including, this step.</summary>
    public GradientHistory History { get; }

    /// <summary>What the clipping stage did at this step; null before it ran or when no policy is set. Read by the
    /// detectors that run after clipping (<see cref="IGradientDetector.ReadsClipping"/>).</summary>
    public ClippingOutcome? Clipping { get; set; }

    /// <summary>Layer <paramref name="index"/>'s weight scale against its expected init scale, from the last step on
    /// which its weights were read (this one, or an earlier full step): once the monitor has seen a layer's weights, every
    /// alert on it can name its init scale, whatever kind of step raises it. Null when its weights were never read, or its
    /// fan-in or activation is unknown.</summary>
    public InitializationScale? WeightScale(int index) =>
        InitializationScale.Measure(Descriptors[index], Layers[index].Parameters ?? _lastParameters?[index]);

    /// <summary>g^d over the probed layers: the factor by which the back-propagated signal changes from the last probed
    /// layer to the first; null when not measured.</summary>
    public double? DepthGainOverDepth => DepthGain is double g && ProbedLayers >= 2 ? Math.Pow(g, ProbedLayers - 1) : null;
}
