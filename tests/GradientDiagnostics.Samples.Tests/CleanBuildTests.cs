using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Samples.Tests;

/// <summary>
/// A user's first command builds a sample (or the file-based quick start, against the source here): it must print no warning (issue 22). The build runs as a child process on
/// the already built tree, so it costs an up-to-date check, yet NuGet replays its restore warnings (NU1603) and the
/// build's own targets (Source Link, the native-library fix) run again.
/// </summary>
[Collection(SampleOutputCollection.Name)]
public sealed partial class CleanBuildTests
{
    /// <summary>Every sample folder with a project, and the file-based quick start: a new sample is covered without an
    /// edit here.</summary>
    public static TheoryData<string> Samples() =>
        [.. Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "samples"))
            .Where(d => Directory.GetFiles(d, "*.csproj").Length > 0)
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)
            .Append("quickstart.cs")!];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_builds_without_a_warning_line(string sample)
    {
        (int exitCode, string output) = Run(RepositoryRoot.Path, "build", Path.Combine("samples", sample), "-nologo", "-tl:off");

        Assert.True(exitCode == 0, output);
        if (!sample.EndsWith(".cs", StringComparison.Ordinal))
        {
            Assert.Contains("0 Warning(s)", output, StringComparison.Ordinal); // a file-based build prints no summary
        }

        string[] warnings = [.. output.Split('\n').Where(line => WarningLine().IsMatch(line))];
        Assert.True(warnings.Length == 0, string.Join('\n', warnings));
    }

    // MSBuild's formats: "file(1,2): warning CS1234: …", "project : warning NU1603: …" and "targets(25,5): warning : …".
    [GeneratedRegex(@"\bwarning\s*[A-Z]*\d*\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex WarningLine();

    private static (int ExitCode, string Output) Run(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host runs under `dotnet test`, whose MSBuild variables would leak into the child build.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish within 10 minutes:\n{output}");
        }

        process.WaitForExit(); // only the overload without a timeout waits for the redirected output to be read to its end

        return (process.ExitCode, output.ToString());
    }
}
