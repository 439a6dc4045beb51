using GradientDiagnostics.TorchSharp.Tests.Telemetry;

namespace GradientDiagnostics.TorchSharp.Tests.Checkpoint;

/// <summary>A resumed run's logs continue the first run's: JSON Lines appends, TensorBoard writes into the same
/// directory, step numbers increase strictly, and the reports equal the unbroken run's.</summary>
public sealed class ResumeLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-resumelog-").FullName;

    [Fact]
    public void Json_lines_and_tensorboard_steps_increase_strictly_across_the_resume_and_the_reports_equal_the_unbroken_run()
    {
        (ResumeTraining.Log unbroken, string unbrokenLines, _) = Run("unbroken", resume: false);
        (ResumeTraining.Log resumed, string resumedLines, string resumedBoard) = Run("resumed", resume: true);

        ResumeAssert.Identical(unbroken, resumed);
        long[] steps = [.. File.ReadLines(resumedLines).Skip(1).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64())];
        Assert.Equal(Enumerable.Range(0, 200).Select(s => (long)s), steps);
        Assert.Single(File.ReadLines(resumedLines), l => l.Contains("\"type\":\"run\"", StringComparison.Ordinal));

        // TensorBoard: one event file per run segment in the same directory; read in the order written, a tag's steps
        // increase strictly across them.
        string[] files = [.. Directory.GetFiles(resumedBoard, "events.out.tfevents.*").OrderBy(File.GetCreationTimeUtc).ThenBy(f => f, StringComparer.Ordinal)];
        Assert.Equal(2, files.Length);
        long[] boardSteps = [.. files.SelectMany(TensorBoardEventFile.Read)
            .Where(e => e.Values.Any(v => v.Tag == "gradients/global_norm")).Select(e => e.Step)];
        Assert.Equal(Enumerable.Range(0, 20).Select(s => 10L * s), boardSteps); // written every ExportInterval = 10 steps

        Assert.Equal(Undated(GradientReport.FromJsonLines(unbrokenLines).ToHtml()), Undated(GradientReport.FromJsonLines(resumedLines).ToHtml()));
        Assert.Equal(Undated(unbroken.Report!), Undated(resumed.Report!));
    }

    [Fact]
    public void A_resume_from_an_earlier_checkpoint_cuts_the_json_lines_the_first_run_wrote_after_it()
    {
        string lines = Path.Combine(_directory, "cut", "run.jsonl");
        var scenario = new ResumeTraining.Scenario(Options: o => o.Telemetry.JsonLinesPath = lines);
        string checkpoint = Path.Combine(_directory, "cut", "checkpoint");
        // The first run checkpoints at step 60 and goes on to step 80 before it stops (a crash after the checkpoint).
        ResumeTraining.Train(scenario, 0, 60, load: null, save: checkpoint, new ResumeTraining.Log());
        ResumeTraining.Train(scenario, 0, 80, load: null, save: null, new ResumeTraining.Log());
        ResumeTraining.Train(scenario, 0, 60, load: null, save: checkpoint, new ResumeTraining.Log());
        File.AppendAllText(lines, "{\"type\":\"step\",\"step\":6"); // and a half-written line
        ResumeTraining.Train(scenario, 60, 90, load: checkpoint, save: null, new ResumeTraining.Log());

        long[] steps = [.. File.ReadLines(lines).Skip(1).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64())];
        Assert.Equal(Enumerable.Range(0, 90).Select(s => (long)s), steps);
    }

    [Fact]
    public void Five_hundred_healthy_steps_after_a_resume_raise_no_alert_and_skip_no_step()
    {
        var scenario = new ResumeTraining.Scenario(Steps: 600, Recovery: true, Options: o => o.Clipping = GradientClipping.ZScore());
        ResumeTraining.Log resumed = ResumeTraining.Run(scenario, Path.Combine(_directory, "healthy"));

        Assert.Equal(600, resumed.Results.Count);
        Assert.DoesNotContain(resumed.Alerts, a => a.Step >= 100);
        Assert.DoesNotContain(resumed.Results.Skip(100), r => r.SkipStep);
        Assert.Equal(Enumerable.Range(100, 500).Select(s => (long)s), resumed.Results.Skip(100).Select(r => r.Step));
    }

    /// <summary>The report without the time it was generated at, the one line two builds of the same run differ in.</summary>
    private static string Undated(string html) =>
        System.Text.RegularExpressions.Regex.Replace(html, @"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z", "(time)");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private (ResumeTraining.Log Log, string Lines, string Board) Run(string name, bool resume)
    {
        string lines = Path.Combine(_directory, name, "run.jsonl");
        string board = Path.Combine(_directory, name, "board");
        var scenario = new ResumeTraining.Scenario(
            TargetScale: step => step == 150 ? 200 : 1,
            Options: o => (o.Telemetry.JsonLinesPath, o.Telemetry.TensorBoardLogDirectory, o.Telemetry.ExportInterval) = (lines, board, 10));
        return (ResumeTraining.Run(scenario, resume ? Path.Combine(_directory, name, "checkpoint") : null), lines, board);
    }
}
