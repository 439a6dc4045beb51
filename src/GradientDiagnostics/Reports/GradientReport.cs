namespace GradientDiagnostics;

/// <summary>
/// A self-contained HTML report of a run: one file, no scripts, no external resources (it opens offline), charts as
/// inline SVG. It shows the gradient-flow chart (mean and max |g| per layer, log scale), the layers × steps heatmap
/// (log₁₀ mean |g| per layer at the exported steps, NaN/Inf cells, clipping, loss-scale changes and alert steps
/// marked), the depth profile (‖∂L/∂y‖ against depth with the fitted gain), the global norm over steps with the clip
/// threshold and the alerts marked, and the alerts table with each diagnosis and the NaN's origin when traced. Built from a live monitor
/// (<c>GradientMonitor.CreateReport()</c>,
/// <see cref="GradientAnalyzer.CreateReport"/>) or from a JSON Lines file (<see cref="FromJsonLines"/>); either way it
/// holds bounded data (see <see cref="ReportOptions"/>).
/// </summary>
public sealed class GradientReport
{
    private readonly GradientReportSnapshot _snapshot;

    internal GradientReport(GradientReportSnapshot snapshot, string title)
    {
        _snapshot = snapshot;
        Title = title;
    }

    /// <summary>The report's title, shown at the top of the page.</summary>
    public string Title { get; }

    /// <summary>The number of steps the report covers.</summary>
    public long StepCount => _snapshot.StepCount;

    /// <summary>The number of alerts raised in the run (the table may list fewer, see
    /// <see cref="ReportOptions.MaxAlerts"/>).</summary>
    public long AlertCount => _snapshot.AlertCount;

    /// <summary>Builds a report from a JSON Lines run file (see <see cref="TelemetryOptions.JsonLinesPath"/>),
    /// streaming it: memory stays bounded whatever the file's length.</summary>
    /// <param name="path">The JSON Lines file.</param>
    /// <param name="options">The report's bounds; the defaults when null.</param>
    /// <returns>The report.</returns>
    /// <exception cref="InvalidDataException">The file is not a GradientDiagnostics run.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public static GradientReport FromJsonLines(string path, ReportOptions? options = null)
    {
        options ??= new ReportOptions();
        OptionGuard.ValidateAll(() => options.Validate(nameof(GradientMonitorOptions.Report)));
        GradientRunHistory? history = null;
        GradientRun.Read(path, (header, layers) => history = new GradientRunHistory(layers, options, header.ClipThreshold), step => history!.Add(step));
        return new GradientReport(history!.Snapshot(), Path.GetFileName(path));
    }

    /// <summary>Renders the report as one self-contained HTML document.</summary>
    /// <returns>The HTML text.</returns>
    public string ToHtml() => HtmlReportRenderer.Render(_snapshot, Title);

    /// <summary>Writes the HTML report to a file, creating its directory when needed.</summary>
    /// <param name="path">The file to write (overwritten).</param>
    /// <exception cref="ArgumentException">The file cannot be written; the message says why.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = OutputPath.OpenForWriting(path, nameof(path));
        using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        writer.Write(ToHtml());
    }
}
