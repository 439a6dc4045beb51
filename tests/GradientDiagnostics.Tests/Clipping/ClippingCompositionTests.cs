using Microsoft.Extensions.Logging.Testing;

namespace GradientDiagnostics.Tests.Clipping;

public sealed class ClippingCompositionTests
{
    [Fact]
    public void Then_runs_agc_then_global_norm_on_what_agc_left()
    {
        ArrayClippingTarget.Parameter[] Layer() => [new([.3f, .4f, .001f, 0f, .06f, 0f], [3, 4, 0, 0, 6, 8], Units: 3)];
        var h = new ClippingHarness(GradientClipping.SkipNonFinite().Then(GradientClipping.Adaptive()).Then(GradientClipping.ByGlobalNorm(0.05)), Layer());

        GradientStepResult result = h.Step();

        // AGC leaves [0.03, 0.04, 1e-5, 0, 0.06, 0], L2 norm √0.0061 = 0.0781; the global norm then scales it to 0.05.
        double afterAgc = Math.Sqrt((0.03 * 0.03) + (0.04 * 0.04) + (1e-5 * 1e-5) + (0.06 * 0.06));
        Assert.Equal(0.05 / (afterAgc + 1e-6), result.ClippingCoefficient, 1e-6);
        Assert.Equal(0.03 * result.ClippingCoefficient, h.Gradient(0)[0], 1e-7);
        Assert.Equal(0.05, result.NormAfterClipping!.Value, 1e-6);
        Assert.Equal(Math.Sqrt(.25 + 1e-6 + .0036), result.NormBeforeClipping!.Value, 1e-6);
    }

    [Fact]
    public void Reported_norm_type_is_the_first_global_norm_policy()
    {
        var h = new ClippingHarness(GradientClipping.ByValue(100).Then(GradientClipping.ByGlobalNorm(1, 1)), ClippingHarness.Layer(3, 4), ClippingHarness.Layer(12));

        Assert.Equal(19, h.Step().NormBeforeClipping!.Value, 1e-12);
    }

    [Fact]
    public void No_policy_reports_no_clipping()
    {
        var h = new ClippingHarness(_ => { }, ClippingHarness.Layer(3, 4));

        GradientStepResult result = h.Step();

        Assert.Null(result.NormBeforeClipping);
        Assert.Null(result.NormAfterClipping);
        Assert.False(result.ClippingActed);
        Assert.Equal([3f, 4f], h.Gradient(0));
    }

    [Fact]
    public void PersistentClipping_fires_when_clipping_acts_on_almost_every_step_and_is_logged_with_event_1007()
    {
        var logger = new FakeLogger();
        var options = new GradientMonitorOptions { Clipping = GradientClipping.ByGlobalNorm(1) };
        var target = new ArrayClippingTarget([ClippingHarness.Layer(3, 4)]);
        var analyzer = new GradientAnalyzer(["layer0"], options, logger);
        var fired = new List<GradientAlert>();
        analyzer.AlertRaised += (_, a) => fired.Add(a);

        for (int step = 0; step < 64; step++)
        {
            target.Layers[0][0].Gradient[0] = 3;
            target.Layers[0][0].Gradient[1] = 4;
            analyzer.Analyze(target.Observe(), 1.0, target);
        }

        GradientAlert alert = Assert.Single(fired, a => a.Kind == GradientAlertKind.PersistentClipping);
        Assert.Equal(59, alert.Step);
        Assert.Equal(GradientMetricNames.ClippingActiveFraction, alert.Metric);
        Assert.Equal(60 / 64.0, alert.Value);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.PersistentClipping);
    }

    [Fact]
    public void PersistentClipping_stays_quiet_when_clipping_acts_on_a_minority_of_steps()
    {
        var options = new GradientMonitorOptions { Clipping = GradientClipping.ByGlobalNorm(10) };
        var target = new ArrayClippingTarget([ClippingHarness.Layer(3, 4)]);
        var analyzer = new GradientAnalyzer(["layer0"], options);

        for (int step = 0; step < 200; step++)
        {
            float scale = step % 4 == 0 ? 10 : 1;
            target.Layers[0][0].Gradient[0] = 3 * scale;
            target.Layers[0][0].Gradient[1] = 4 * scale;
            Assert.DoesNotContain(analyzer.Analyze(target.Observe(), 1.0, target).Alerts, a => a.Kind == GradientAlertKind.PersistentClipping);
        }
    }
}
