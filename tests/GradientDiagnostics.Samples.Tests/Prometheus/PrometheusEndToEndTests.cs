using System.Diagnostics;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Samples.Tests.Prometheus;

/// <summary>
/// The metrics as users read them: the Telemetry sample serves them with OpenTelemetry's Prometheus exporter
/// (<c>--prometheus PORT</c>), a real Prometheus server scrapes it on loopback, and PromQL through the HTTP API must give
/// back what the run recorded in its JSON Lines file. The queries are the ones docs/telemetry.md gives users.
/// </summary>
[Collection(SampleOutputCollection.Name)]
public sealed class PrometheusEndToEndTests : IDisposable
{
    /// <summary>Mean global gradient norm of the steps in each 5-minute window (docs/telemetry.md).</summary>
    public const string GlobalNormOverTime = "rate(gradient_diagnostics_global_norm_sum[5m]) / rate(gradient_diagnostics_global_norm_count[5m])";

    /// <summary>Layers whose mean gradient norm over the last 5 minutes is below 1e-4 of the global norm (docs/telemetry.md).</summary>
    public const string LayersVanishingNow =
        "(rate(gradient_diagnostics_layer_gradient_norm_sum[5m]) / rate(gradient_diagnostics_layer_gradient_norm_count[5m]))"
        + " < ignoring(gradient_diagnostics_layer) group_left"
        + " 1e-4 * rate(gradient_diagnostics_global_norm_sum[5m]) / rate(gradient_diagnostics_global_norm_count[5m])";

    /// <summary>Alerts raised per kind since the process started (docs/telemetry.md).</summary>
    public const string AlertsPerKind = "sum by (gradient_diagnostics_alert_kind) (gradient_diagnostics_alerts_total)";

    // Enough steps that several scrapes (every 200 ms) fall inside training, so rate() has an increase to divide.
    private const int Steps = 200;

    // 200 steps × 10 ms span about ten 200 ms scrapes whatever the machine's speed (the sample's own steps take about a
    // millisecond on a quiet machine): rate() needs an increase between two scrapes of the run.
    private const string StepDelayMilliseconds = "10";
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(4);
    private readonly string _output = Path.Combine(Path.GetTempPath(), $"gd-prometheus-run-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_output))
        {
            Directory.Delete(_output, recursive: true);
        }
    }

    [Fact]
    public async Task Prometheus_scrapes_the_sample_and_PromQL_returns_the_recorded_norms_and_alerts()
    {
        using var timeout = new CancellationTokenSource(Bound);
        int samplePort = PrometheusServer.FreeLoopbackPort();
        using PrometheusServer prometheus = await PrometheusServer.StartAsync(samplePort, TimeSpan.FromMilliseconds(200));
        await WaitForScrapeLoopAsync(prometheus, timeout.Token);
        using Process sample = StartSample(samplePort, out Task<string> trainingDone);
        try
        {
            await ScrapeAndQueryAsync(prometheus, sample, trainingDone, timeout.Token);
        }
        finally
        {
            if (!sample.HasExited)
            {
                sample.Kill(entireProcessTree: true);
            }
        }
    }

    private async Task ScrapeAndQueryAsync(PrometheusServer prometheus, Process sample, Task<string> trainingDone, CancellationToken cancellation)
    {
        await trainingDone.WaitAsync(cancellation);
        await WaitForFinalScrapeAsync(prometheus, cancellation);
        GradientRun run = GradientRun.Load(Path.Combine(_output, "run.jsonl"));
        double[] finiteNorms = [.. run.Steps.Select(s => s.GlobalNorm).Where(double.IsFinite)];

        // The global norm histogram holds every finite step's norm: its count and sum are the run's.
        Assert.Equal(finiteNorms.Length, Single(await prometheus.QueryAsync("gradient_diagnostics_global_norm_count")));
        Assert.Equal(finiteNorms.Sum(), Single(await prometheus.QueryAsync("gradient_diagnostics_global_norm_sum")), finiteNorms.Sum() * 1e-9);
        var overTime = await prometheus.QueryAsync(GlobalNormOverTime);
        Assert.InRange(Single(overTime), finiteNorms.Min(), finiteNorms.Max());

        // Per-layer norms, tagged with the layer: the sigmoid stack vanishes towards the input.
        double MeanNorm(string layer, IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> series) =>
            series.Single(s => s.Labels["gradient_diagnostics_layer"] == layer).Value;
        var sums = await prometheus.QueryAsync("gradient_diagnostics_layer_gradient_norm_sum");
        var counts = await prometheus.QueryAsync("gradient_diagnostics_layer_gradient_norm_count");
        Assert.Equal(run.Layers.Count, sums.Count);
        Assert.Equal(finiteNorms.Length, MeanNorm("fc0", counts));
        Assert.True(MeanNorm("fc0", sums) < 1e-6 * MeanNorm("head", sums), $"fc0 {MeanNorm("fc0", sums)} vs head {MeanNorm("head", sums)}");
        string[] vanishing = [.. (await prometheus.QueryAsync(LayersVanishingNow)).Select(s => s.Labels["gradient_diagnostics_layer"])];
        Assert.Contains("fc0", vanishing);
        Assert.DoesNotContain("head", vanishing);

        // The alert counter, per kind, equals the alerts the run recorded (Vanishing, and NonFinite for the corrupt batch).
        Dictionary<string, double> expected = run.Steps.SelectMany(s => s.Alerts).GroupBy(a => a.Kind.ToString()).ToDictionary(g => g.Key, g => (double)g.Count());
        Dictionary<string, double> perKind = (await prometheus.QueryAsync(AlertsPerKind)).ToDictionary(s => s.Labels["gradient_diagnostics_alert_kind"], s => s.Value);
        Assert.Contains("Vanishing", perKind.Keys);
        Assert.Contains("NonFinite", perKind.Keys);
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), perKind.OrderBy(p => p.Key, StringComparer.Ordinal));

        // End of input ends the sample's serving: it exits by itself, cleanly.
        sample.StandardInput.Close();
        await sample.WaitForExitAsync(cancellation);
        Assert.Equal(0, sample.ExitCode);
    }

    [Theory]
    [InlineData(GlobalNormOverTime)]
    [InlineData(LayersVanishingNow)]
    [InlineData(AlertsPerKind)]
    public void Docs_give_users_the_queries_this_test_runs(string promQl)
    {
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "telemetry.md"));
        Assert.Contains($"`{promQl}`", docs, StringComparison.Ordinal);
    }

    private static double Single(IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> series) =>
        Assert.Single(series).Value;

    /// <summary>Waits until Prometheus has tried its first scrape of the (not yet started) sample: its scrape manager
    /// applies new targets only every 5 s, and a run that trained before then would be seen only after its end, when
    /// rate() has no increase to show (NaN).</summary>
    private static async Task WaitForScrapeLoopAsync(PrometheusServer prometheus, CancellationToken cancellation)
    {
        while ((await prometheus.QueryAsync("up")).Count == 0)
        {
            await Task.Delay(200, cancellation);
        }
    }

    /// <summary>Waits until Prometheus holds a scrape taken after the last step.</summary>
    private static async Task WaitForFinalScrapeAsync(PrometheusServer prometheus, CancellationToken cancellation)
    {
        while (true)
        {
            var steps = await prometheus.QueryAsync("gradient_diagnostics_steps_total");
            if (steps.Count == 1 && steps[0].Value == Steps)
            {
                return;
            }

            await Task.Delay(200, cancellation);
        }
    }

    private Process StartSample(int port, out Task<string> trainingDone)
    {
        string dll = Path.Combine(AppContext.BaseDirectory.Replace("tests/GradientDiagnostics.Samples.Tests", "samples/Telemetry", StringComparison.Ordinal), "TelemetryDemo.dll");
        Assert.True(File.Exists(dll), $"The Telemetry sample was not built at {dll}.");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { dll, Steps.ToString(System.Globalization.CultureInfo.InvariantCulture), _output, "--prometheus", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--step-delay", StepDelayMilliseconds })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data is null)
            {
                done.TrySetException(new InvalidOperationException($"The sample ended before training was done:\n{output}"));
            }
            else if (e.Data.StartsWith("Training done", StringComparison.Ordinal))
            {
                done.TrySetResult(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        trainingDone = done.Task;
        return process;
    }
}
