using System.Globalization;
using System.Text.Json;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Samples.Tests.DotnetCounters;

/// <summary>One value that <c>dotnet-counters collect --format json</c> wrote: the instrument's display name (its unit
/// in parentheses), its tags (for a histogram, <c>Percentile=50</c> and so on) and the value.</summary>
internal sealed record CounterValue(string Name, string Tags, double Value);

/// <summary>
/// The <c>dotnet-counters</c> global tool as this repository installs it: a local tool, pinned in
/// <c>.config/dotnet-tools.json</c> and restored by <c>dotnet tool restore</c> (<c>.ci/run</c> does), run with
/// <c>dotnet tool run</c> from the repository root. When it is not restored, the test fails with the command that
/// restores it, on CI as anywhere: a live-view test that skipped itself would hide a broken install step.
/// </summary>
internal static class DotnetCountersTool
{
    /// <summary>Fails with the restore command when the local tool is not available.</summary>
    public static void EnsureRestored()
    {
        (int exitCode, string output) = DotNet.Run(RepositoryRoot.Path, "tool", "run", "dotnet-counters", "--version");
        Assert.True(exitCode == 0,
            "dotnet-counters is not restored: run `dotnet tool restore` at the repository root (.ci/run does; the version is pinned in "
            + $".config/dotnet-tools.json). CI={Environment.GetEnvironmentVariable("CI") ?? "(unset)"}.\n{output}");
    }

    /// <summary>Runs <c>dotnet-counters collect</c> on a running process for <paramref name="duration"/>, one value per
    /// second, and returns the tool's console output and the values it wrote.</summary>
    public static async Task<(string Output, IReadOnlyList<CounterValue> Values)> CollectAsync(
        int processId, string counters, TimeSpan duration, int? maxHistograms = null)
    {
        string file = Path.Combine(Path.GetTempPath(), $"gd-counters-{Guid.NewGuid():N}.json");
        List<string> arguments =
        [
            "tool", "run", "dotnet-counters", "collect", "-p", processId.ToString(CultureInfo.InvariantCulture), "--counters", counters,
            "--format", "json", "-o", file, "--refresh-interval", "1", "--duration", duration.ToString(@"dd\:hh\:mm\:ss", CultureInfo.InvariantCulture),
        ];
        if (maxHistograms is int limit)
        {
            arguments.AddRange(["--maxHistograms", limit.ToString(CultureInfo.InvariantCulture)]);
        }

        (int exitCode, string output) = await Task.Run(() => DotNet.Run(RepositoryRoot.Path, [.. arguments]));
        try
        {
            Assert.True(exitCode == 0 && File.Exists(file), $"dotnet-counters exited with {exitCode}:\n{output}");
            using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            CounterValue[] values =
            [
                .. json.RootElement.GetProperty("Events").EnumerateArray().Select(e => new CounterValue(
                    e.GetProperty("name").GetString()!, e.GetProperty("tags").GetString()!, e.GetProperty("value").GetDouble())),
            ];
            return (output, values);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
