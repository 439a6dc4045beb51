namespace GradientDiagnostics.Tests.Telemetry;

public sealed class TelemetryOptionsTests
{
    [Theory]
    [InlineData("Telemetry.ExportInterval")]
    [InlineData("Telemetry.SummaryInterval")]
    [InlineData("Telemetry.MaxPerLayerMetricLayers")]
    [InlineData("Report.HistoryPoints")]
    [InlineData("Report.MaxAlerts")]
    public void Out_of_range_option_throws_naming_it(string option)
    {
        var options = new GradientMonitorOptions();
        Action set = option switch
        {
            "Telemetry.ExportInterval" => () => options.Telemetry.ExportInterval = 0,
            "Telemetry.SummaryInterval" => () => options.Telemetry.SummaryInterval = -1,
            "Telemetry.MaxPerLayerMetricLayers" => () => options.Telemetry.MaxPerLayerMetricLayers = 1,
            "Report.HistoryPoints" => () => options.Report.HistoryPoints = 101,
            _ => () => options.Report.MaxAlerts = 1,
        };
        set();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.Equal(option, ex.ParamName);
    }

    [Fact]
    public void Unwritable_json_lines_path_fails_at_construction_naming_the_option()
    {
        // A path below a regular file can never be created, not even by root (CI runs as root).
        string file = Path.GetTempFileName();
        var options = new GradientMonitorOptions();
        options.Telemetry.JsonLinesPath = Path.Combine(file, "run", "steps.jsonl");

        var ex = Assert.Throws<ArgumentException>(() => new GradientAnalyzer(["a"], options));

        Assert.Equal("Telemetry.JsonLinesPath", ex.ParamName);
        Assert.Contains(options.Telemetry.JsonLinesPath, ex.Message, StringComparison.Ordinal);
        File.Delete(file);
    }
}
