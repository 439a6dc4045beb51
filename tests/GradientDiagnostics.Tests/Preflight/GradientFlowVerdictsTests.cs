namespace GradientDiagnostics.Tests.Preflight;

public sealed class GradientFlowVerdictsTests
{
    [Theory]
    [InlineData(0.6, 20, GradientFlowVerdict.Vanishing)]  // 0.6^19 ≈ 6e-5 < 1e-4
    [InlineData(0.65, 20, GradientFlowVerdict.Healthy)]   // 0.65^19 ≈ 3e-4
    [InlineData(1.0, 20, GradientFlowVerdict.Healthy)]
    [InlineData(1.7, 20, GradientFlowVerdict.Exploding)]  // 1.7^19 ≈ 2e4 > 1e4
    [InlineData(0.1, 1, GradientFlowVerdict.Unknown)]     // one probed layer: no ratio
    public void Verdict_is_the_depth_criterion_of_the_detectors_with_their_default_thresholds(double gain, int probed, GradientFlowVerdict expected) =>
        Assert.Equal(expected, GradientFlowVerdicts.Classify(gain, probed, new GradientMonitorOptions()));

    [Fact]
    public void Verdict_follows_configured_thresholds_and_switched_off_criteria()
    {
        var strict = new GradientMonitorOptions();
        strict.Vanishing.RelativeNormThreshold = 0.5;
        var off = new GradientMonitorOptions();
        off.Vanishing.DepthDecay = false;

        Assert.Equal(GradientFlowVerdict.Vanishing, GradientFlowVerdicts.Classify(0.9, 20, strict));
        Assert.Equal(GradientFlowVerdict.Healthy, GradientFlowVerdicts.Classify(0.1, 20, off));
        Assert.Equal(GradientFlowVerdict.Unknown, GradientFlowVerdicts.Classify(null, 20, strict));
    }

    [Fact]
    public void Preflight_options_judge_one_step_and_write_no_telemetry()
    {
        GradientMonitorOptions options = GradientFlowPreflight.CreateOptions(o =>
        {
            o.Telemetry.JsonLinesPath = "run.jsonl";
            o.Vanishing.RelativeNormThreshold = 1e-3;
        });

        Assert.Equal((1, 1), (options.Vanishing.Persistence, options.Vanishing.PersistenceWindow));
        Assert.Equal((1, 1), (options.Saturation.Persistence, options.Saturation.PersistenceWindow));
        Assert.Null(options.Telemetry.JsonLinesPath);
        Assert.False(options.Telemetry.Metrics);
        Assert.Equal(1e-3, options.Vanishing.RelativeNormThreshold);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => GradientFlowPreflight.CreateOptions(o => o.Exploding.RelativeNormThreshold = 0.5));
        Assert.Contains("Exploding.RelativeNormThreshold", error.Message, StringComparison.Ordinal);
    }
}
