using GradientDiagnostics.Samples;

namespace GradientDiagnostics.Samples.Tests;

/// <summary>The ExplodingRnn sample's claim, at a small size: without clipping the tanh RNN explodes, with
/// global-norm clipping it learns to add.</summary>
public sealed class ExplodingRnnSampleTests
{
    [Fact]
    public void Unclipped_rnn_explodes_and_clipped_rnn_beats_the_mean_predictor()
    {
        var settings = new ExplodingRnn.Settings { Steps = 400, SequenceLength = 10 };

        (ExplodingRnn.RunSummary plain, ExplodingRnn.RunSummary clipped) = ExplodingRnn.Compare(settings);

        Assert.True(plain.ExplodingAlerts > 0);
        Assert.True(!double.IsFinite(plain.FinalLoss) || plain.FinalLoss >= ExplodingRnn.BaselineLoss, $"unclipped final loss {plain.FinalLoss}");
        Assert.Equal(0, clipped.ExplodingAlerts);
        Assert.Equal(0, clipped.SkippedSteps);
        Assert.True(clipped.ClippedSteps > 0);
        Assert.True(clipped.FinalLoss < 0.8 * ExplodingRnn.BaselineLoss, $"clipped final loss {clipped.FinalLoss}");
    }

    [Fact]
    public void Run_prints_the_chart_and_the_summary()
    {
        using var output = new StringWriter();

        Assert.Equal(0, ExplodingRnn.Run(new ExplodingRnn.Settings { Steps = 40, SequenceLength = 5 }, output));

        string text = output.ToString();
        Assert.Contains("loss per step (40 steps", text, StringComparison.Ordinal);
        Assert.Contains("ByGlobalNorm(1)", text, StringComparison.Ordinal);
        Assert.Contains("no clipping", text, StringComparison.Ordinal);
    }
}
