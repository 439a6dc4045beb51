using System.Text.Json;

namespace GradientDiagnostics;

/// <summary>Writes the run as JSON Lines: the header at creation, then one line per step. Steps at the export
/// interval, and steps with alerts, carry the per-layer statistics.</summary>
internal sealed class JsonLinesRunWriter : IGradientStepObserver
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly FileStream _stream;
    private readonly Utf8JsonWriter _json;
    private readonly int _exportInterval;

    /// <summary>Creates (or overwrites) the file and writes the header.</summary>
    /// <exception cref="ArgumentException">The file cannot be created; ParamName is <paramref name="optionName"/>.</exception>
    public JsonLinesRunWriter(string path, IReadOnlyList<LayerDescriptor> layers, int exportInterval, double? clipThreshold, string optionName)
    {
        _stream = OutputPath.OpenForWriting(path, optionName);
        _json = new Utf8JsonWriter(_stream, new JsonWriterOptions { Indented = false, SkipValidation = true });
        _exportInterval = exportInterval;
        Write(RunRecordMapping.ToHeader(layers, exportInterval, clipThreshold), flush: true);
    }

    public void OnStep(GradientStepResult result, double overheadSeconds)
    {
        bool full = result.Step % _exportInterval == 0 || result.Alerts.Count > 0;
        Write(RunRecordMapping.ToRecord(result, withLayers: full), flush: full);
    }

    public void Dispose()
    {
        _json.Dispose();
        _stream.Dispose();
    }

    private void Write(RunRecord record, bool flush)
    {
        JsonSerializer.Serialize(_json, record, RunJsonContext.Default.RunRecord);
        _json.Flush();
        _json.Reset();
        _stream.Write(NewLine);
        if (flush)
        {
            // Lines with layers or alerts reach the disk at once, so a crash loses at most a few global-only lines.
            _stream.Flush();
        }
    }
}
