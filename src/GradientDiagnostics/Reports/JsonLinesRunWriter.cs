using System.Text.Json;

namespace GradientDiagnostics;

/// <summary>Writes the run as JSON Lines: the header, then one line per step. Steps at the export interval, and steps
/// with alerts, carry the per-layer statistics. A resumed run (<see cref="Resume"/>) appends to the file it finds.</summary>
internal sealed class JsonLinesRunWriter : IGradientStepObserver
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly FileStream _stream;
    private readonly Utf8JsonWriter _json;
    private readonly int _exportInterval;
    private RunHeaderRecord? _pendingHeader;

    /// <summary>Opens (or creates) the file. Its old content is replaced by the header at the first step, unless the run
    /// resumes first: the file is kept open from here so an unwritable path fails at attach.</summary>
    /// <exception cref="ArgumentException">The file cannot be created; ParamName is <paramref name="optionName"/>.</exception>
    public JsonLinesRunWriter(string path, IReadOnlyList<LayerDescriptor> layers, int exportInterval, double? clipThreshold, string optionName)
    {
        _stream = OutputPath.OpenKeepingContent(path, optionName);
        _json = new Utf8JsonWriter(_stream, new JsonWriterOptions { Indented = false, SkipValidation = true });
        _exportInterval = exportInterval;
        _pendingHeader = RunRecordMapping.ToHeader(layers, exportInterval, clipThreshold);
    }

    public void OnStep(GradientStepResult result, double overheadSeconds)
    {
        WriteHeaderIfPending();
        bool full = result.Step % _exportInterval == 0 || result.Alerts.Count > 0;
        Write(RunRecordMapping.ToRecord(result, withLayers: full), flush: full);
    }

    /// <summary>Keeps the file's header and its steps before <paramref name="nextStep"/>, cuts the rest (steps a run wrote
    /// after its checkpoint, or a half-written last line), and appends after them. A file without a header is started anew.</summary>
    public void Resume(long nextStep)
    {
        if (_pendingHeader is null)
        {
            return; // steps were written already: this run is not resuming its file
        }

        long keep = JsonLinesResumePoint.Find(_stream, nextStep);
        if (keep == 0)
        {
            return; // no header: the first step writes one
        }

        _stream.SetLength(keep);
        _stream.Seek(0, SeekOrigin.End);
        _pendingHeader = null;
    }

    public void Dispose()
    {
        if (FaultIsolation.Run(this, static w => w.WriteHeaderIfPending()) is Exception ex)
        {
            GradientSelfLog.Write("the JSON Lines header could not be written at close.", ex);
        }

        _json.Dispose();
        _stream.Dispose();
    }

    private void WriteHeaderIfPending()
    {
        if (_pendingHeader is not RunHeaderRecord header)
        {
            return;
        }

        _stream.SetLength(0);
        _pendingHeader = null;
        Write(header, flush: true);
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
