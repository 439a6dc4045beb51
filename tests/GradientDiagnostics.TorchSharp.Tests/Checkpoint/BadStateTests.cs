using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Checkpoint;

/// <summary>Each bad state throws <see cref="InvalidDataException"/> naming the problem and leaves the monitor as it was:
/// a run that tried every bad load at step 100 and went on equals the unbroken run bit for bit.</summary>
public sealed class BadStateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-badstate-").FullName;

    [Fact]
    public void Every_bad_state_throws_its_message_and_the_monitor_keeps_working_from_its_own_state()
    {
        var scenario = new ResumeTraining.Scenario(
            Recovery: true, TargetScale: step => step == 150 ? 200 : 1, Options: o => o.Clipping = GradientClipping.ZScore());
        ResumeTraining.Log unbroken = ResumeTraining.Run(scenario, checkpoint: null);
        string good = Path.Combine(_directory, "good");
        // Saved at step 50, so a partial load at step 100 would change the monitor (its step, history, ZClip statistics).
        ResumeTraining.Train(scenario, 0, 50, load: null, save: good, new ResumeTraining.Log());
        string state = File.ReadAllText(Path.Combine(good, "monitor.json"));
        var messages = new List<string>();

        // The same run in one monitor, which was handed each bad state at step 100.
        var continued = new ResumeTraining.Log();
        RunWithBadLoadsAt100(scenario, state, messages, continued);

        ResumeAssert.Identical(unbroken, continued);
        Assert.Contains(messages, m => m.Contains("truncated or corrupt", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("format version 7", StringComparison.Ordinal) &&
            m.Contains("version 5 or newer", StringComparison.Ordinal) && m.Contains("reads format version 1", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("different model: its layer 1 is 'hidden'", StringComparison.Ordinal) &&
            m.Contains("layer 1 is 'fc1'", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("saved with mixed precision", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("does not fit a window of 100", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("Recovery.LossWindow", StringComparison.Ordinal) && m.Contains("does not fit", StringComparison.Ordinal));
        Assert.Equal(7, messages.Count);
    }

    [Fact]
    public void A_state_without_mixed_precision_is_refused_by_a_mixed_precision_monitor()
    {
        string good = Path.Combine(_directory, "plain");
        var scenario = new ResumeTraining.Scenario();
        ResumeTraining.Train(scenario, 0, 10, load: null, save: good, new ResumeTraining.Log());
        using var model = ResumeTraining.Model(scenario with { Float16 = true });
        using GradientMonitor monitor = model.AttachGradientMonitor();
        monitor.EnableMixedPrecision();

        var error = Assert.Throws<InvalidDataException>(() => monitor.LoadState(Path.Combine(good, "monitor.json")));

        Assert.Contains("saved without mixed precision", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Trains 200 steps in one monitor; at step 100 it tries each bad state, recording each message.</summary>
    private void RunWithBadLoadsAt100(ResumeTraining.Scenario scenario, string state, List<string> messages, ResumeTraining.Log log)
    {
        string[] bad =
        [
            state[..(state.Length / 2)],
            "not json at all",
            WithVersions(state, 7, 5),
            Corrupted(state, node => node["history"]!["globalNorms"]!["next"] = 1000),
            // Read after the history, the detectors and the clipping policy were loaded: they must be put back.
            Corrupted(state, node => node["recovery"]!["counts"]!["lossesNext"] = 99_999),
        ];
        string mixedPrecision = MixedPrecisionState();
        string otherModel = OtherModelState();
        ResumeTraining.Train(scenario, 0, 200, load: null, save: null, log, beforeSteps: null, atStep: (step, monitor) =>
        {
            if (step != 100)
            {
                return;
            }

            foreach (string text in bad.Append(mixedPrecision).Append(otherModel))
            {
                using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text));
                messages.Add(Assert.Throws<InvalidDataException>(() => monitor.LoadState(stream)).Message);
                Assert.True(stream.CanRead, "LoadState closed the caller's stream");
            }
        });
    }

    private string MixedPrecisionState()
    {
        string path = Path.Combine(_directory, "mixed");
        ResumeTraining.Train(new ResumeTraining.Scenario(Float16: true), 0, 5, load: null, save: path, new ResumeTraining.Log());
        return File.ReadAllText(Path.Combine(path, "monitor.json"));
    }

    private static string OtherModelState()
    {
        manual_seed(1);
        using var model = nn.Sequential(("fc0", nn.Linear(ResumeTraining.Inputs, 32)), ("hidden", nn.Linear(32, 1)));
        using GradientMonitor monitor = model.AttachGradientMonitor();
        using var stream = new MemoryStream();
        monitor.SaveState(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string WithVersions(string state, int version, int minReader) =>
        Corrupted(state, node => (node["formatVersion"], node["minReaderVersion"]) = (version, minReader));

    private static string Corrupted(string state, Action<JsonNode> change)
    {
        JsonNode node = JsonNode.Parse(state)!;
        change(node);
        return node.ToJsonString();
    }
}
