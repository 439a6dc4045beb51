using GradientDiagnostics.Samples.MemoryHorizon;

namespace GradientDiagnostics.Samples.Tests;

/// <summary>The MemoryHorizon sample's claims, at a small size: default-initialized LSTM and tanh RNN keep a gradient
/// signal for only a few of their steps and raise VanishingThroughTime; after InitializeForGradientFlow the horizon
/// reaches the whole sequence, no alert is raised, and the LSTM learns the recall task the default one cannot.</summary>
public sealed class MemoryHorizonSampleTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Default_init_vanishes_through_time_and_the_remedy_keeps_the_whole_sequence(bool lstm)
    {
        var settings = new MemoryHorizonRun.Settings { Steps = 6, ProfileInterval = 5, SequenceLength = 50 };

        MemoryHorizonRun.Summary plain = MemoryHorizonRun.Train(lstm, remedy: false, settings);
        MemoryHorizonRun.Summary remedied = MemoryHorizonRun.Train(lstm, remedy: true, settings);

        Assert.InRange(plain.First.MemoryHorizon!.Value, 1, 15);
        Assert.True(plain.VanishingAlerts >= 1, "the default layer should raise VanishingThroughTime at the second measured step");
        Assert.Contains("InitializeForGradientFlow", plain.FirstAlert, StringComparison.Ordinal);
        Assert.Null(remedied.First.MemoryHorizon); // above 1% of its size at the loss over all 50 steps
        Assert.Equal(0, remedied.VanishingAlerts + remedied.ExplodingAlerts);
        Assert.InRange(remedied.Remedy!.GainPerStepAfter!.Value, 0.9, 1.1);
    }

    [Fact]
    public void Remedied_lstm_learns_the_recall_task_and_the_default_one_does_not()
    {
        var settings = new MemoryHorizonRun.Settings { Steps = LstmSteps, SequenceLength = 50 };

        MemoryHorizonRun.Summary plain = MemoryHorizonRun.Train(lstm: true, remedy: false, settings);
        MemoryHorizonRun.Summary remedied = MemoryHorizonRun.Train(lstm: true, remedy: true, settings);

        Assert.True(plain.FinalLoss > 0.9 * RecallTask.BaselineLoss, $"default LSTM final loss {plain.FinalLoss}");
        Assert.True(remedied.FinalLoss < 0.5 * RecallTask.BaselineLoss, $"remedied LSTM final loss {remedied.FinalLoss}");
    }

    [Fact]
    public void Run_prints_horizons_alerts_and_losses_for_the_four_models()
    {
        using var output = new StringWriter();

        Assert.Equal(0, MemoryHorizonReport.Run(new MemoryHorizonRun.Settings { Steps = 2, SequenceLength = 45, HiddenSize = 8 }, output));

        string text = output.ToString();
        string[] names = ["LSTM, default init", "LSTM, InitializeForGradientFlow", "tanh RNN, default init", "tanh RNN, InitializeForGradientFlow"];
        foreach (string name in names)
        {
            Assert.Contains(name, text, StringComparison.Ordinal);
        }

        Assert.Contains("memory horizon at step 0:", text, StringComparison.Ordinal);
        Assert.Contains("remedy: gain per step", text, StringComparison.Ordinal);
        Assert.Contains("alerts: VanishingThroughTime", text, StringComparison.Ordinal);
        Assert.Contains("x answering 0", text, StringComparison.Ordinal);
    }

    private const int LstmSteps = 200;
}
