namespace GradientDiagnostics;

/// <summary>A recurrent layer's time profile at one step (the fields of <see cref="RecurrentTimeProfile"/>). Written on
/// every step that measured one, whatever the export interval: profiles are measured only every
/// <see cref="ThroughTimeOptions.Interval"/> steps, and the report's horizon-over-training chart needs each of them.</summary>
internal sealed class TimeProfileRecord
{
    public string Layer { get; set; } = string.Empty;

    public string Unit { get; set; } = string.Empty;

    public int StackedLayer { get; set; }

    public bool Reverse { get; set; }

    public int SequenceLength { get; set; }

    public int SequenceCount { get; set; }

    public bool Replayed { get; set; }

    public List<double>? GradientNorms { get; set; }

    public List<double>? StepGains { get; set; }

    public double GainPerStep { get; set; }

    public int? MemoryHorizon { get; set; }

    public double HorizonFraction { get; set; }

    public double? RecurrentSpectralNorm { get; set; }

    public string? SpectralNormGate { get; set; }

    public List<double>? GateSpectralNorms { get; set; }

    public double? ForgetTimescale { get; set; }

    public string? NotMeasuredReason { get; set; }

    public static TimeProfileRecord From(RecurrentTimeProfile p) => new()
    {
        Layer = p.Layer,
        Unit = p.Unit,
        StackedLayer = p.StackedLayer,
        Reverse = p.Reverse,
        SequenceLength = p.SequenceLength,
        SequenceCount = p.SequenceCount,
        Replayed = p.Replayed,
        GradientNorms = p.GradientNorms.Count > 0 ? [.. p.GradientNorms] : null,
        StepGains = p.StepGains.Count > 0 ? [.. p.StepGains] : null,
        GainPerStep = p.GainPerStep,
        MemoryHorizon = p.MemoryHorizon,
        HorizonFraction = p.HorizonFraction,
        RecurrentSpectralNorm = p.RecurrentSpectralNorm,
        SpectralNormGate = p.SpectralNormGate,
        GateSpectralNorms = p.GateSpectralNorms.Count > 0 ? [.. p.GateSpectralNorms] : null,
        ForgetTimescale = p.ForgetTimescale,
        NotMeasuredReason = p.NotMeasuredReason,
    };

    public RecurrentTimeProfile ToProfile() => new()
    {
        Layer = Layer,
        Unit = Unit,
        StackedLayer = StackedLayer,
        Reverse = Reverse,
        SequenceLength = SequenceLength,
        SequenceCount = SequenceCount,
        Replayed = Replayed,
        GradientNorms = GradientNorms ?? [],
        StepGains = StepGains ?? [],
        GainPerStep = GainPerStep,
        MemoryHorizon = MemoryHorizon,
        HorizonFraction = HorizonFraction,
        RecurrentSpectralNorm = RecurrentSpectralNorm,
        SpectralNormGate = SpectralNormGate,
        GateSpectralNorms = GateSpectralNorms ?? [],
        ForgetTimescale = ForgetTimescale,
        NotMeasuredReason = NotMeasuredReason,
    };
}
