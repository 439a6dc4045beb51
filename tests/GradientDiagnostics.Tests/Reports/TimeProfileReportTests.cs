using System.Text.RegularExpressions;
using GradientDiagnostics.Tests.Telemetry;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace GradientDiagnostics.Tests.Reports;

/// <summary>The recurrent time profiles in the report, JSON Lines and the metrics, from a synthetic run whose one LSTM-like
/// layer's per-step gain rises from 0.70 to 0.98 over training (so its horizon grows from 12 steps to the whole 60 by step 20).</summary>
public sealed partial class TimeProfileReportTests : IDisposable
{
    private const int Steps = 23;
    private const int Interval = 4;
    private const int SequenceLength = 60;
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-time-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Report_from_the_json_lines_file_equals_the_live_report_with_time_profiles()
    {
        string path = Path.Combine(_directory, "run.jsonl");
        string live;
        List<GradientStepResult> results;
        using (GradientAnalyzer analyzer = SyntheticRun.Analyzer(4, o => (o.Telemetry.JsonLinesPath, o.Telemetry.ExportInterval) = (path, 5)))
        {
            results = Run(analyzer);
            live = analyzer.CreateReport("run.jsonl").ToHtml();
        }

        GradientRun run = GradientRun.Load(path);
        string offline = GradientReport.FromJsonLines(path).ToHtml();

        Assert.Equal(Stamp().Replace(live, string.Empty), Stamp().Replace(offline, string.Empty));
        Assert.Equal(results.Select(r => r.TimeProfiles.Count), run.Steps.Select(s => s.TimeProfiles.Count));
        RecurrentTimeProfile written = results[^3].TimeProfiles.Single(), read = run.Steps[^3].TimeProfiles.Single();
        Assert.Equal(written.GradientNorms, read.GradientNorms);
        Assert.Equal(written.StepGains, read.StepGains);
        Assert.Equal((written.GainPerStep, written.MemoryHorizon, written.ForgetTimescale), (read.GainPerStep, read.MemoryHorizon, read.ForgetTimescale));
        // Lists compare by reference in a record: the same lists in, every other field compared by value.
        Assert.Equal(written, read with
        {
            GradientNorms = written.GradientNorms, StepGains = written.StepGains, GateSpectralNorms = written.GateSpectralNorms,
        });
    }

    [Fact]
    public void Report_draws_the_latest_profile_against_steps_back_and_every_measured_horizon()
    {
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(4);
        List<GradientStepResult> results = Run(analyzer);

        string html = analyzer.CreateReport("rnn").ToHtml();

        RecurrentTimeProfile latest = results.Last(r => r.TimeProfiles.Count > 0).TimeProfiles.Single();
        Assert.Contains("Gradient flow through time", html, StringComparison.Ordinal);
        Assert.Contains("<h3>lstm (LSTM)</h3>", html, StringComparison.Ordinal);
        Assert.Equal(SequenceLength, Regex.Matches(Section(html, "time-profile-0"), "<circle").Count);
        Assert.Equal(results.Count(r => r.TimeProfiles.Count > 0), Regex.Matches(Section(html, "memory-horizon-0"), "<circle").Count);
        Assert.Null(latest.MemoryHorizon); // γ = 0.955 keeps 0.955^59 = 0.06 of the signal: above 1% over the whole sequence
        Assert.Contains("over all 60 steps", html, StringComparison.Ordinal);
        Assert.Contains("step 0: 12 of 60 steps", html, StringComparison.Ordinal); // 0.7^12 = 0.0138, 0.7^13 = 0.0097
    }

    [Fact]
    public void Gain_and_horizon_gauges_are_recorded_per_profile_on_measuring_steps()
    {
        using var factory = new TestMeterFactory();
        using var gains = new MetricCollector<double>(factory, GradientTelemetryInstruments.MeterName, GradientTelemetryInstruments.LayerGainPerStep);
        using var horizons = new MetricCollector<int>(factory, GradientTelemetryInstruments.MeterName, GradientTelemetryInstruments.LayerMemoryHorizon);
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(4, o => o.Telemetry.MeterFactory = factory);

        List<GradientStepResult> results = Run(analyzer);

        RecurrentTimeProfile[] profiles = [.. results.SelectMany(r => r.TimeProfiles)];
        Assert.Equal(profiles.Select(p => p.GainPerStep), gains.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(profiles.Select(p => p.MemoryHorizon ?? SequenceLength), horizons.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(horizons.GetMeasurementSnapshot(), m => Assert.Equal("lstm", m.Tags[GradientTelemetryInstruments.LayerTag]));
        Assert.Equal("{step}", horizons.Instrument!.Unit);
        Assert.Equal(12, horizons.GetMeasurementSnapshot()[0].Value);
    }

    /// <summary>A profile whose per-step gain is exactly <paramref name="gain"/>: ‖g_t‖ = γ^(T−1−t), loss at the last step.</summary>
    internal static RecurrentTimeProfile Profile(double gain)
    {
        double[] norms = [.. Enumerable.Range(0, SequenceLength).Select(t => Math.Pow(gain, SequenceLength - 1 - t))];
        var profile = new RecurrentTimeProfile
        {
            Layer = "lstm", Unit = "LSTM", SequenceCount = 8, ForgetTimescale = 1.44, RecurrentSpectralNorm = 0.9, SpectralNormGate = "f",
        };
        return profile
            .WithStepNorms(norms, [.. norms.Select(n => n * gain)], 0.01);
    }

    private static List<GradientStepResult> Run(GradientAnalyzer analyzer)
    {
        var results = new List<GradientStepResult>();
        for (int s = 0; s < Steps; s++)
        {
            IReadOnlyList<RecurrentTimeProfile>? profiles = s % Interval == 0 ? [Profile(0.7 + (0.28 * s / (Steps - 1)))] : null;
            results.Add(analyzer.Analyze(SyntheticRun.Step(4, 0.9, seed: s), 1.0 / (s + 1), timeProfiles: profiles));
        }

        return results;
    }

    private static string Section(string html, string id)
    {
        int start = html.IndexOf($"id=\"{id}\"", StringComparison.Ordinal);
        return html[start..html.IndexOf("</svg>", start, StringComparison.Ordinal)];
    }

    [GeneratedRegex("at \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}Z")]
    private static partial Regex Stamp();
}
