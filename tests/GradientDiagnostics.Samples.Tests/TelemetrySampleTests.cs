using System.Diagnostics;

namespace GradientDiagnostics.Samples.Tests;

/// <summary>The Telemetry sample is top-level code, so its entry point runs as a process, as a user would run it.</summary>
[Collection(SampleOutputCollection.Name)]
public sealed class TelemetrySampleTests : IDisposable
{
    private readonly string _output = Path.Combine(Path.GetTempPath(), $"gd-telemetry-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    public async Task Telemetry_sample_exports_json_lines_tensorboard_and_report()
    {
        string dll = Path.Combine(AppContext.BaseDirectory.Replace("tests/GradientDiagnostics.Samples.Tests", "samples/Telemetry", StringComparison.Ordinal), "TelemetryDemo.dll");
        Assert.True(File.Exists(dll), $"The Telemetry sample was not built at {dll}.");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { dll, "30", _output })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> stdoutTask = process.StandardOutput.ReadToEndAsync();
        Task<string> stderrTask = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        string stdout = await stdoutTask, stderr = await stderrTask;

        Assert.True(process.ExitCode == 0, stdout + stderr);
        Assert.True(new FileInfo(Path.Combine(_output, "run.jsonl")).Length > 0);
        Assert.NotEmpty(Directory.GetFiles(_output, "*.html", SearchOption.AllDirectories));
        Assert.NotEmpty(Directory.GetFiles(_output, "events.out.tfevents.*", SearchOption.AllDirectories));
        Assert.Contains("gradient_diagnostics.", stdout, StringComparison.Ordinal);
    }
}
