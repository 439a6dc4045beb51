using System.Diagnostics;
using System.Text;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Samples.Tests;

/// <summary>
/// The samples as a user runs them: each sample folder with a project (found on disk, so a new sample is covered without
/// an edit here), its build output (this test project references every sample, so <c>dotnet test</c> builds them), and
/// a run of that output as its own process.
/// </summary>
internal static class SampleBuildOutput
{
    /// <summary>The folders under samples/ that hold a project, in ordinal order.</summary>
    public static IEnumerable<string> Folders() =>
        Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "samples"))
            .Where(d => Directory.GetFiles(d, "*.csproj").Length > 0)
            .Select(d => Path.GetFileName(d))
            .Order(StringComparer.Ordinal);

    /// <summary>The built entry assembly of the sample in <paramref name="folder"/> (named after its project file).</summary>
    public static string Dll(string folder)
    {
        string project = Assert.Single(Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "samples", folder), "*.csproj"));
        string output = AppContext.BaseDirectory.Replace("tests/GradientDiagnostics.Samples.Tests", $"samples/{folder}", StringComparison.Ordinal);
        string dll = Path.Combine(output, Path.GetFileNameWithoutExtension(project) + ".dll");
        Assert.True(File.Exists(dll), $"The {folder} sample was not built at {dll}: give tests/GradientDiagnostics.Samples.Tests a ProjectReference to it.");
        return dll;
    }

    /// <summary>Starts the sample in <paramref name="folder"/> with <paramref name="arguments"/>, its output redirected.</summary>
    public static Process Start(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll(folder));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    /// <summary>Runs the sample to its end; fails when it is still running after <paramref name="limit"/> (then it is
    /// killed): a sample that ignored its arguments and started training.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string folder, TimeSpan limit, params string[] arguments)
    {
        using Process process = Start(folder, arguments);
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{folder} {string.Join(' ', arguments)} still ran after {limit.TotalSeconds} s:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Collects a running process's output lines, stdout and stderr together, as they arrive.</summary>
    public static StringBuilder CollectOutput(Process process)
    {
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return output;
    }
}
