using System.Text.Json.Serialization;

namespace GradientDiagnostics;

// The monitor-state format (docs/reliability.md, "Checkpoint and resume"): one JSON document, snake_case names, NaN and
// ±Infinity written as "NaN", "Infinity", "-Infinity". Layer state is keyed by layer name, detector state by the
// detector's option name (GradientMonitorOptions.Exploding → "Exploding"), never by position.

/// <summary>The whole analyzer state at a step boundary: what shapes every later step's result.</summary>
internal sealed class AnalyzerStateDocument
{
    /// <summary>The version this document was written in.</summary>
    public int FormatVersion { get; set; }

    /// <summary>The oldest reader version that can read it; a reader older than this refuses the document.</summary>
    public int MinReaderVersion { get; set; }

    /// <summary>The number of steps analyzed: the next step's number.</summary>
    public long Step { get; set; }

    /// <summary>The layers' names in forward order, to check the state belongs to this model.</summary>
    public List<string> Layers { get; set; } = [];

    public bool PreviousStepSkipped { get; set; }

    public GradientHistoryState History { get; set; } = new();

    /// <summary>Per detector (by option name), its gates and windows.</summary>
    public Dictionary<string, ComponentState> Detectors { get; set; } = [];

    /// <summary>The clipping policy's history; null when no clipping policy is configured.</summary>
    public ComponentState? Clipping { get; set; }

    /// <summary>The loss scaler; present exactly when mixed precision (loss scaling) was enabled.</summary>
    public LossScalerDocument? LossScaler { get; set; }

    /// <summary>The recovery ledger; null when recovery was not enabled. Snapshots are not part of it.</summary>
    public ComponentState? Recovery { get; set; }

    /// <summary>The report's bounded history.</summary>
    public RunHistoryState Report { get; set; } = new();
}

/// <summary>PyTorch's <c>GradScaler.state_dict()</c>, field for field, so a scaler can be read from a PyTorch checkpoint.</summary>
internal sealed class LossScalerDocument
{
    [JsonPropertyName("scale")]
    public double Scale { get; set; }

    [JsonPropertyName("growth_factor")]
    public double GrowthFactor { get; set; }

    [JsonPropertyName("backoff_factor")]
    public double BackoffFactor { get; set; }

    [JsonPropertyName("growth_interval")]
    public int GrowthInterval { get; set; }

    [JsonPropertyName("_growth_tracker")]
    public int GrowthTracker { get; set; }
}

/// <summary>The detectors' shared history (<see cref="GradientHistory"/>).</summary>
internal sealed class GradientHistoryState
{
    public long Steps { get; set; }

    public double EarlyMaxGlobalNorm { get; set; }

    public WindowState GlobalNorms { get; set; } = new();

    public MovingState GlobalMoving { get; set; } = new();

    /// <summary>Per layer name.</summary>
    public Dictionary<string, LayerHistoryState> Layers { get; set; } = [];
}

internal sealed class LayerHistoryState
{
    public WindowState Norms { get; set; } = new();

    public MovingState Moving { get; set; } = new();
}

/// <summary>A <see cref="RollingWindow"/>: its ring buffer as stored (the first <c>count</c> slots) and the next slot.</summary>
internal sealed class WindowState
{
    public List<double> Values { get; set; } = [];

    public int Next { get; set; }
}

/// <summary>An <see cref="ExponentialMovingStatistics"/>.</summary>
internal sealed class MovingState
{
    public long Count { get; set; }

    public double Mean { get; set; }

    public double Variance { get; set; }
}

/// <summary>An <see cref="AlertGate"/>: the persistence bits (newest in bit 0), the step it last fired at, its source.</summary>
internal sealed class GateState
{
    public ulong History { get; set; }

    public long? LastFired { get; set; }

    public string? Source { get; set; }
}

/// <summary>A dead-units window of one layer (<see cref="UnitActivityWindow"/>).</summary>
internal sealed class UnitWindowState
{
    public long Measurements { get; set; }

    public List<long> LastActive { get; set; } = [];
}
