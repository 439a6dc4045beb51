using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Samples.Tests.DotnetCounters;

/// <summary>
/// The live view a .NET user already has: <c>dotnet-counters</c> attached to the running Telemetry sample reads the
/// <c>GradientDiagnostics</c> meter with no exporter in the process. Its default limit of 10 histograms is reached by the
/// sample's 16 layers (it warns); with <c>--maxHistograms</c> every layer shows. The values are checked against the run's
/// own JSON Lines file. The commands are the ones docs/telemetry.md gives users.
/// </summary>
[Collection(SampleOutputCollection.Name)]
public sealed partial class DotnetCountersLiveViewTests : IDisposable
{
    /// <summary>The meter name users pass to <c>--counters</c> (docs/telemetry.md).</summary>
    public const string Counters = "GradientDiagnostics";

    /// <summary>The live console view of docs/telemetry.md, every layer shown.</summary>
    public const string MonitorCommand = "dotnet-counters monitor -p PID --counters GradientDiagnostics --maxHistograms 40";

    /// <summary>The recording command of docs/telemetry.md.</summary>
    public const string CollectCommand = "dotnet-counters collect -p PID --counters GradientDiagnostics --maxHistograms 40 --format csv -o gradients.csv";

    private const string GlobalNorm = "gradient_diagnostics.global_norm";
    private const string LayerNorm = "gradient_diagnostics.layer.gradient_norm";
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(4);
    private readonly string _output = Path.Combine(Path.GetTempPath(), $"gd-counters-run-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_output))
        {
            Directory.Delete(_output, recursive: true);
        }
    }

    [Fact]
    public async Task Dotnet_counters_reads_the_global_and_per_layer_norms_live_from_the_running_sample()
    {
        DotnetCountersTool.EnsureRestored();
        using var timeout = new CancellationTokenSource(Bound);

        // Far more steps than the test needs, paced so that they go on while the tool attaches twice: the test ends the
        // sample itself once both reads are done.
        using Process sample = SampleBuildOutput.Start("Telemetry", "100000", _output, "--step-delay", "10");
        System.Text.StringBuilder sampleOutput = SampleBuildOutput.CollectOutput(sample);
        IReadOnlyList<CounterValue> values;
        string limited, unlimited;
        try
        {
            await WaitForTrainingAsync(sample, sampleOutput, timeout.Token);
            (limited, _) = await DotnetCountersTool.CollectAsync(sample.Id, Counters, TimeSpan.FromSeconds(5));
            (unlimited, values) = await DotnetCountersTool.CollectAsync(sample.Id, Counters, TimeSpan.FromSeconds(5), maxHistograms: 40);
            Assert.False(sample.HasExited, $"The sample ended while it was read:\n{sampleOutput}");
        }
        finally
        {
            sample.Kill(entireProcessTree: true);
            await sample.WaitForExitAsync(CancellationToken.None);
        }

        // 16 layers, the global norm and the overhead are 18 histograms: the default limit of 10 is reached, 40 is not.
        Assert.Contains("Histogram tracking limit (10) reached", limited, StringComparison.Ordinal);
        Assert.DoesNotContain("Histogram tracking limit", unlimited, StringComparison.Ordinal);

        // The global norm, live: its median per second lies within the norms the run recorded.
        double[] medians = [.. Medians(values, GlobalNorm).Select(m => m.Value)];
        Assert.True(medians.Length > 0, $"dotnet-counters showed no {GlobalNorm}:\n{unlimited}");
        (string[] layers, double[] recorded) = ReadRun(Path.Combine(_output, "run.jsonl"));
        Assert.All(medians, m => Assert.InRange(m, 0.5 * recorded.Min(), 2 * recorded.Max())); // histogram buckets are approximate

        // Every layer's norm, tagged with the layer; the sigmoid stack vanishes towards the input.
        Dictionary<string, double> perLayer = Medians(values, LayerNorm).GroupBy(m => m.Layer!).ToDictionary(g => g.Key, g => g.Last().Value);
        Assert.Equal(layers.Order(StringComparer.Ordinal), perLayer.Keys.Order(StringComparer.Ordinal));
        Assert.True(perLayer["fc0"] < 1e-6 * perLayer["head"], $"fc0 {perLayer["fc0"]} vs head {perLayer["head"]}");
    }

    [Theory]
    [InlineData(MonitorCommand)]
    [InlineData(CollectCommand)]
    public void Docs_give_users_the_commands_this_test_runs(string command)
    {
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "telemetry.md"));
        Assert.Contains(command, docs, StringComparison.Ordinal);
    }

    /// <summary>The 50th-percentile values of a histogram instrument, with the layer tag when it has one. The tool's
    /// display name adds the unit: "gradient_diagnostics.global_norm (1)".</summary>
    private static IEnumerable<(string? Layer, double Value)> Medians(IEnumerable<CounterValue> values, string instrument) =>
        values.Where(v => v.Name.StartsWith(instrument + " (", StringComparison.Ordinal))
            .Select(v => (Tags: v.Tags.Split(','), v.Value))
            .Where(v => v.Tags.Contains("Percentile=50"))
            .Select(v => (v.Tags.FirstOrDefault(t => t.StartsWith("gradient_diagnostics.layer=", StringComparison.Ordinal))?.Split('=')[1], v.Value));

    /// <summary>The layer names from the run's header line and the finite global norms of its complete step lines (the
    /// sample was killed: its last line may be cut).</summary>
    private static (string[] Layers, double[] GlobalNorms) ReadRun(string jsonLines)
    {
        string text = File.ReadAllText(jsonLines);
        string[] lines = text[..(text.LastIndexOf('\n') + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using JsonDocument header = JsonDocument.Parse(lines[0]);
        string[] layers = [.. header.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("name").GetString()!)];
        double[] norms =
        [
            .. lines.Skip(1).Select(l => RecordedGlobalNorm().Match(l)).Where(m => m.Success)
                .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Where(double.IsFinite),
        ];
        Assert.NotEmpty(norms);
        return (layers, norms);
    }

    /// <summary>Waits for the sample's first log line: it is training, and its meter exists.</summary>
    private static async Task WaitForTrainingAsync(Process sample, System.Text.StringBuilder output, CancellationToken cancellation)
    {
        while (true)
        {
            Assert.False(sample.HasExited, $"The sample ended before it trained:\n{output}");
            lock (output)
            {
                if (output.Length > 0)
                {
                    return;
                }
            }

            await Task.Delay(200, cancellation);
        }
    }

    // A finite global norm is a JSON number; NaN and ±Infinity are strings and do not match.
    [GeneratedRegex(@"""globalNorm"":(-?[0-9][0-9.eE+-]*)")]
    private static partial Regex RecordedGlobalNorm();
}
