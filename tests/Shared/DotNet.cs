using System.Diagnostics;
using System.Text;

namespace GradientDiagnostics.Testing;

/// <summary>Runs the dotnet CLI as a child process, isolated from the test host's MSBuild environment, and ends it
/// (with its children) after 10 minutes.</summary>
internal static class DotNet
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    public static (int ExitCode, string Output) Run(string workingDirectory, params string[] arguments)
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
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish within {Limit.TotalMinutes} minutes:\n{output}");
        }

        process.WaitForExit(); // only the overload without a timeout waits for the redirected output to be read to its end
        return (process.ExitCode, output.ToString());
    }
}
