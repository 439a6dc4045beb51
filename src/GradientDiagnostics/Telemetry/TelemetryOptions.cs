using System.Diagnostics.Metrics;

namespace GradientDiagnostics;

/// <summary>
/// Configures what the monitor exports besides alerts: metrics (<see cref="System.Diagnostics.Metrics"/>), a
/// periodic summary log line, a JSON Lines file of the run, and TensorBoard event files (TorchSharp adapter). Output
/// paths are opened when the monitor is attached, so an unwritable path fails there with an
/// <see cref="ArgumentException"/> naming the option, not in the middle of training.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>Whether the monitor records its metrics (see <see cref="GradientTelemetryInstruments"/>). With no
    /// listener attached (no OpenTelemetry, no <c>dotnet-counters</c>) recording costs a few branches per step.</summary>
    /// <value>The default value is <see langword="true"/>: instruments without a listener are nearly free, as in
    /// every .NET library that publishes metrics.</value>
    public bool Metrics { get; set; } = true;

    /// <summary>The factory the <c>GradientDiagnostics</c> meter is created from, typically the host's
    /// <see cref="IMeterFactory"/> from dependency injection; when null, one meter shared by every monitor in the
    /// process is used.</summary>
    /// <value>The default value is <see langword="null"/> (the shared meter).</value>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Whether to publish <see cref="GradientTelemetryInstruments.LayerGradientNorm"/>, tagged with the layer
    /// name. Off by default because every layer is a new time series in the metrics backend.</summary>
    /// <value>The default value is <see langword="false"/>: parameter and layer names are not tags by default, to
    /// keep metric cardinality bounded.</value>
    public bool PerLayerMetrics { get; set; }

    /// <summary>The most layers <see cref="PerLayerMetrics"/> publishes; a deeper network publishes this many layers
    /// evenly spaced across depth, always the first and the last. At least 2.</summary>
    /// <value>The default value is 32: enough to see a gain across depth, and far under the OpenTelemetry .NET SDK's
    /// default cardinality limit of 2000 series per metric.</value>
    public int MaxPerLayerMetricLayers { get; set; } = 32;

    /// <summary>Every this many steps, log one Information line (EventId
    /// <see cref="GradientLogEvents.StepSummary"/>) with the global norm, the worst layer and the clip status; 0 turns
    /// it off.</summary>
    /// <value>The default value is 0 (off): alerts already say when something is wrong; the summary is for people
    /// who want a heartbeat in their logs.</value>
    public int SummaryInterval { get; set; }

    /// <summary>Every this many steps, the JSON Lines file and TensorBoard get the full per-layer statistics (steps
    /// with alerts always do); the other steps write only their global figures to JSON Lines and nothing to
    /// TensorBoard. At least 1.</summary>
    /// <value>The default value is 50, the default of PyTorch Lightning's <c>log_every_n_steps</c>.</value>
    public int ExportInterval { get; set; } = 50;

    /// <summary>The JSON Lines file the run is written to (one JSON object per line: a header, then one line per
    /// step with its alerts). Read it back with <see cref="GradientRun"/> or turn it into a report with
    /// <see cref="GradientReport.FromJsonLines"/>. The file is created (or overwritten) at attach; null writes none.</summary>
    /// <value>The default value is <see langword="null"/> (no file).</value>
    public string? JsonLinesPath { get; set; }

    /// <summary>The directory TensorBoard event files are written to by the TorchSharp adapter, with TorchSharp's
    /// <c>SummaryWriter</c>, every <see cref="ExportInterval"/> steps: per-layer gradient norms and histograms, the
    /// global norm, the clip coefficient and alert counts. Created at attach; null writes none.</summary>
    /// <value>The default value is <see langword="null"/> (no TensorBoard output).</value>
    public string? TensorBoardLogDirectory { get; set; }

    internal void Validate(string path)
    {
        OptionGuard.InRange(MaxPerLayerMetricLayers, 2, int.MaxValue, $"{path}.{nameof(MaxPerLayerMetricLayers)}");
        OptionGuard.InRange(SummaryInterval, 0, int.MaxValue, $"{path}.{nameof(SummaryInterval)}");
        OptionGuard.InRange(ExportInterval, 1, int.MaxValue, $"{path}.{nameof(ExportInterval)}");
    }
}
