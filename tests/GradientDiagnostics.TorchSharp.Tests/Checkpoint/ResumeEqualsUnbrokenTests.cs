using Xunit.Abstractions;

namespace GradientDiagnostics.TorchSharp.Tests.Checkpoint;

/// <summary>The acceptance runs: 200 steps unbroken equal 100 steps, a checkpoint, everything rebuilt and loaded, and 100
/// more steps, bit for bit.</summary>
public sealed class ResumeEqualsUnbrokenTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-resume-").FullName;

    public static TheoryData<string> Clippings => ["ZScore", "AutoClip"];

    [Theory]
    [MemberData(nameof(Clippings))]
    public void Float32_with_clipping_and_a_spike_after_the_resume_equals_the_unbroken_run(string clipping)
    {
        var scenario = new ResumeTraining.Scenario(
            TargetScale: step => step == 150 ? 200 : 1,
            Options: o => o.Clipping = clipping == "ZScore" ? GradientClipping.ZScore() : GradientClipping.AutoClip());
        ResumeTraining.Log unbroken = ResumeTraining.Run(scenario, checkpoint: null);
        ResumeTraining.Log resumed = ResumeTraining.Run(scenario, _directory);
        Report(unbroken);

        ResumeAssert.Identical(unbroken, resumed);
        // The spike after the resume was judged against the saved history: it raised an alert and was clipped.
        Assert.Contains(resumed.Alerts, a => a.Step == 150 && a.Kind == GradientAlertKind.Exploding);
        Assert.True(resumed.Results[150].ClippingCoefficient < 1, $"coefficient {resumed.Results[150].ClippingCoefficient}");
        Assert.Equal(resumed.Results.Count(r => r.ClippingActed && r.Step >= 100), unbroken.Results.Count(r => r.ClippingActed && r.Step >= 100));
    }

    [Fact]
    public void Float16_with_masters_and_dynamic_scaling_keeps_the_loss_scale_of_the_unbroken_run()
    {
        // A growth interval of 10 makes the scale grow until float16's gradients overflow, back off, and grow again, so
        // every step's scale depends on the growth tracker and the scale saved at step 100.
        var scenario = new ResumeTraining.Scenario(Float16: true, MixedPrecision: m => m.LossScaling = LossScaling.Dynamic(65536, growthInterval: 10));
        ResumeTraining.Log unbroken = ResumeTraining.Run(scenario, checkpoint: null);
        ResumeTraining.Log resumed = ResumeTraining.Run(scenario, _directory);
        Report(unbroken);

        ResumeAssert.Identical(unbroken, resumed);
        double[] scales = [.. unbroken.Results.Skip(100).Select(r => r.LossScale)];
        Assert.Equal(scales, resumed.Results.Skip(100).Select(r => r.LossScale));
        Assert.True(scales.Distinct().Count() > 1, "the scale never changed after the resume");
        Assert.Contains(unbroken.Results.Skip(100), r => r.SkipStep);
        Assert.NotEqual(65536, resumed.Results[100].LossScale);
    }

    [Fact]
    public void A_burst_after_the_resume_is_refused_step_by_step_as_in_the_unbroken_run()
    {
        var scenario = new ResumeTraining.Scenario(Recovery: true, TargetScale: step => step is >= 150 and < 155 ? 100 : 1);
        ResumeTraining.Log unbroken = ResumeTraining.Run(scenario, checkpoint: null);
        ResumeTraining.Log resumed = ResumeTraining.Run(scenario, _directory);
        Report(unbroken);

        ResumeAssert.Identical(unbroken, resumed);
        for (int step = 100; step < 200; step++)
        {
            GradientStepResult result = resumed.Results[step];
            bool burst = step is >= 150 and < 155;
            Assert.Equal(burst, result.SkipStep);
            Assert.Equal(burst ? 1 : 0, result.Alerts.Count(a => a.Kind == GradientAlertKind.Recovery));
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void Report(ResumeTraining.Log run)
    {
        output.WriteLine($"{run.Alerts.Count} alerts, {run.Results.Count(r => r.SkipStep)} skipped, {run.Results.Count(r => r.ClippingActed)} clipped");
        foreach (GradientAlert alert in run.Alerts)
        {
            output.WriteLine($"  step {alert.Step}: {alert.Kind} {alert.Layer}");
        }
    }
}
