using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace GradientDiagnostics.Samples.Tests.Prometheus;

/// <summary>
/// Debian's <c>prometheus</c> binary run by the test itself (never the system service): a throwaway config that scrapes
/// one target on 127.0.0.1, a temporary storage directory, its web API on a free loopback port. Disposing kills it and
/// deletes the directory. When the binary is absent it fails with the install command (<c>.ci/run</c> installs it).
/// </summary>
internal sealed class PrometheusServer : IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly string _directory;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string directory, Uri api)
    {
        _process = process;
        _directory = directory;
        _http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Starts the server scraping <c>http://127.0.0.1:{targetPort}/metrics</c> every <paramref name="scrapeInterval"/>
    /// and returns once its API answers ready.</summary>
    public static async Task<PrometheusServer> StartAsync(int targetPort, TimeSpan scrapeInterval)
    {
        string executable = Find() ?? throw new InvalidOperationException(
            "The Prometheus end-to-end test needs Debian's Prometheus server: `apt-get install -y --no-install-recommends prometheus` "
            + "(.ci/run installs it). No `prometheus` binary was found on the PATH or in /usr/bin.");
        string directory = Directory.CreateTempSubdirectory("gd-prometheus-").FullName;
        string interval = $"{(int)scrapeInterval.TotalMilliseconds}ms";
        string config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: {interval}
              scrape_timeout: {interval}
            scrape_configs:
              - job_name: telemetry-sample
                static_configs:
                  - targets: ["127.0.0.1:{targetPort}"]
            """);

        int apiPort = FreeLoopbackPort();
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[]
        {
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{apiPort}", "--log.level=warn",
        })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{apiPort}/"));
        try
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"prometheus exited with {process.ExitCode}: {log}");
                }

                try
                {
                    using HttpResponseMessage ready = await server._http.GetAsync(new Uri("-/ready", UriKind.Relative));
                    if (ready.IsSuccessStatusCode)
                    {
                        return server;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                if (clock.Elapsed > ReadyTimeout)
                {
                    throw new TimeoutException($"prometheus was not ready within {ReadyTimeout.TotalSeconds} s: {log}");
                }

                await Task.Delay(200);
            }
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A free TCP port on 127.0.0.1 (the OS picks it; released before use, so a race is possible but harmless here).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Evaluates a PromQL instant query through <c>/api/v1/query</c>: each series' labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promQl)
    {
        using HttpResponseMessage response = await _http.GetAsync(new Uri($"api/v1/query?query={Uri.EscapeDataString(promQl)}", UriKind.Relative));
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"PromQL `{promQl}` failed: {body}");
        using JsonDocument json = JsonDocument.Parse(body);
        JsonElement data = json.RootElement.GetProperty("data");
        Assert.Equal("vector", data.GetProperty("resultType").GetString());
        var series = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (JsonElement item in data.GetProperty("result").EnumerateArray())
        {
            Dictionary<string, string> labels = item.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            double value = double.Parse(item.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
            series.Add((labels, value));
        }

        return series;
    }

    public void Dispose()
    {
        _http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static string? Find()
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/local/bin"]))
        {
            string path = Path.Combine(directory, "prometheus");
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}
