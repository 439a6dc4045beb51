using System.Text.Json;

namespace GradientDiagnostics;

/// <summary>
/// A run loaded back from the JSON Lines file written with <see cref="TelemetryOptions.JsonLinesPath"/>, for
/// offline analysis: the layers and every step's result with its alerts.
/// </summary>
public sealed class GradientRun
{
    private GradientRun(IReadOnlyList<LayerDescriptor> layers, IReadOnlyList<GradientStepResult> steps, double? clipThreshold)
    {
        Layers = layers;
        Steps = steps;
        ClipThreshold = clipThreshold;
    }

    /// <summary>The monitored layers in forward order (index 0 closest to the input).</summary>
    public IReadOnlyList<LayerDescriptor> Layers { get; }

    /// <summary>Every recorded step, in order. Steps written without per-layer statistics (between export intervals,
    /// see <see cref="TelemetryOptions.ExportInterval"/>) have an empty
    /// <see cref="GradientStepResult.Layers"/>; their global norm, loss, skip decision and alerts are complete.</summary>
    public IReadOnlyList<GradientStepResult> Steps { get; }

    /// <summary>The global-norm clip threshold the run was configured with, or null when clipping was off.</summary>
    public double? ClipThreshold { get; }

    /// <summary>Loads a whole run into memory. For very long runs prefer <see cref="GradientReport.FromJsonLines"/>,
    /// which streams the file into bounded memory.</summary>
    /// <param name="path">The JSON Lines file.</param>
    /// <returns>The run.</returns>
    /// <exception cref="InvalidDataException">The file is not a GradientDiagnostics run; the message gives the line.</exception>
    public static GradientRun Load(string path)
    {
        var steps = new List<GradientStepResult>();
        IReadOnlyList<LayerDescriptor> layers = [];
        double? clipThreshold = null;
        Read(path, (header, l) => (layers, clipThreshold) = (l, header.ClipThreshold), steps.Add);
        return new GradientRun(layers, steps, clipThreshold);
    }

    /// <summary>Streams a run file: hands the header to <paramref name="onHeader"/>, then each step to
    /// <paramref name="onStep"/>, holding one line in memory at a time.</summary>
    internal static void Read(string path, Action<RunHeaderRecord, IReadOnlyList<LayerDescriptor>> onHeader, Action<GradientStepResult> onStep)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RunHeaderRecord? header = null;
        IReadOnlyList<LayerDescriptor> layers = [];
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            RunRecord? record;
            try
            {
                record = JsonSerializer.Deserialize(line, RunJsonContext.Default.RunRecord);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not a GradientDiagnostics run record ({ex.Message}).", ex);
            }
            catch (NotSupportedException ex)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not a GradientDiagnostics run record ({ex.Message}).", ex);
            }

            switch (record)
            {
                case RunHeaderRecord h when header is null:
                    if (h.FormatVersion > RunHeaderRecord.CurrentFormatVersion)
                    {
                        throw new InvalidDataException($"{path}: format version {h.FormatVersion} is newer than this library reads " +
                            $"({RunHeaderRecord.CurrentFormatVersion}); update GradientDiagnostics.");
                    }

                    header = h;
                    layers = RunRecordMapping.ToLayers(h);
                    onHeader(h, layers);
                    break;
                case StepRecord step when header is not null:
                    try
                    {
                        onStep(RunRecordMapping.ToResult(step, layers));
                    }
                    catch (InvalidDataException ex)
                    {
                        throw new InvalidDataException($"{path}:{lineNumber}: {ex.Message}", ex);
                    }

                    break;
                default:
                    throw new InvalidDataException($"{path}:{lineNumber}: expected {(header is null ? "the run header" : "a step record")}.");
            }
        }

        if (header is null)
        {
            throw new InvalidDataException($"{path}: empty; a run file starts with a header line.");
        }
    }
}
