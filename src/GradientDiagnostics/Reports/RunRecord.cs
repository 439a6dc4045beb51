using System.Text.Json.Serialization;

namespace GradientDiagnostics;

// The JSON Lines schema (docs/telemetry.md): the first line is a "run" header, every other line a "step".
// Field names are camelCase, enums are strings, NaN and ±Infinity are written as "NaN", "Infinity", "-Infinity".

/// <summary>One line of a JSON Lines run file; <c>type</c> says which.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(RunHeaderRecord), "run")]
[JsonDerivedType(typeof(StepRecord), "step")]
internal abstract class RunRecord
{
}

/// <summary>The first line: the format version and the layers, in forward order.</summary>
internal sealed class RunHeaderRecord : RunRecord
{
    /// <summary>The format's version; a reader refuses a newer major version.</summary>
    public int FormatVersion { get; set; } = CurrentFormatVersion;

    public const int CurrentFormatVersion = 1;

    public DateTimeOffset StartedUtc { get; set; }

    public int ExportInterval { get; set; }

    public double? ClipThreshold { get; set; }

    public List<LayerRecord> Layers { get; set; } = [];
}

internal sealed class LayerRecord
{
    public string Name { get; set; } = string.Empty;

    public int? FanIn { get; set; }

    public int? FanOut { get; set; }

    public ActivationKind FollowingActivation { get; set; }
}

/// <summary>One step. <see cref="Layers"/> is written at export-interval steps and at steps with alerts, one entry
/// per header layer in the same order; it is absent on the other steps.</summary>
internal sealed class StepRecord : RunRecord
{
    public long Step { get; set; }

    public double GlobalNorm { get; set; }

    public double? Loss { get; set; }

    public bool SkipStep { get; set; }

    public double? DepthGain { get; set; }

    /// <summary>Absent in files written before it was recorded; then derived from the recorded layers.</summary>
    public int? ProbedLayerCount { get; set; }

    public double? DepthGainOverDepth { get; set; }

    public double? ClipCoefficient { get; set; }

    public double? NormBeforeClipping { get; set; }

    public double? NormAfterClipping { get; set; }

    public bool ClippingActed { get; set; }

    /// <summary>The step's loss scale; absent when 1 (no loss scaling, and files written before it was recorded).</summary>
    public double? LossScale { get; set; }

    public List<LayerStepRecord>? Layers { get; set; }

    public List<AlertRecord>? Alerts { get; set; }

    /// <summary>The recurrent layers' time profiles; absent on steps that measured none.</summary>
    public List<TimeProfileRecord>? TimeProfiles { get; set; }
}

/// <summary>A layer's exact gradient statistics at one step (the fields of <see cref="TensorStatistics"/>).</summary>
internal sealed class LayerStepRecord
{
    public long ElementCount { get; set; }

    public double SumOfSquares { get; set; }

    public double SumOfMagnitudes { get; set; }

    public double MaxFiniteMagnitude { get; set; }

    public long ZeroCount { get; set; }

    [JsonPropertyName("nanCount")]
    public long NaNCount { get; set; }

    public long InfinityCount { get; set; }

    public double? OutputGradientNorm { get; set; }

    public double? NormAfterClipping { get; set; }
}

internal sealed class AlertRecord
{
    public GradientAlertKind Kind { get; set; }

    public GradientAlertSeverity Severity { get; set; }

    public string Layer { get; set; } = string.Empty;

    public string Metric { get; set; } = string.Empty;

    public double Value { get; set; }

    public double Threshold { get; set; }

    public string Message { get; set; } = string.Empty;

    /// <summary><see cref="GradientAlert.Origin"/>; absent when null.</summary>
    public string? Origin { get; set; }
}
