using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>Options are copied at attach: the options object the configure callback saw can be changed afterwards
/// without reaching the running monitor.</summary>
public sealed class OptionSnapshotTests
{
    private const int Width = 32;

    [Fact]
    public void Changing_the_options_object_after_attach_has_no_effect_on_cadence_detectors_or_clipping()
    {
        manual_seed(140);
        using var model = Mlp.Create(depth: 20, Width, Activation.Sigmoid, Init.TorchSharpDefault);
        GradientMonitorOptions? seen = null;
        using var monitor = model.AttachGradientMonitor(o =>
        {
            o.FullStatisticsInterval = 3;
            o.Clipping = GradientClipping.ByGlobalNorm(1e-6);
            o.CaptureLayerOutputs = false; // no depth criterion, whose own gate would fire on the full steps
            seen = o;
        });

        // Each of these would change the run if the monitor read the options live; 0 used to divide by zero in Step().
        seen!.FullStatisticsInterval = 0;
        seen.Vanishing.Enabled = false;
        seen.Vanishing.MeanMagnitudeThreshold = 1e-300;
        seen.Vanishing.RelativeNormThreshold = 1e-300;
        seen.Vanishing.CooldownSteps = 0;
        seen.Clipping = null;
        seen.PersistentClipping.Persistence = 1;
        seen.CaptureLayerOutputs = true;

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 7, Width);

        Assert.Equal([0L, 3, 6], results.Where(r => r.Kind == GradientStepKind.Full).Select(r => r.Step));
        GradientAlert[] vanishing = [.. results.SelectMany(r => r.Alerts).Where(a => a.Kind == GradientAlertKind.Vanishing)];
        Assert.NotEmpty(vanishing);
        Assert.All(vanishing, a => Assert.Equal(2L, a.Step)); // 3 of 5 steps, then the 100-step cooldown copied at attach
        Assert.All(results, r => Assert.True(r.ClippingActed && r.NormAfterClipping < 1e-5, $"step {r.Step}: after {r.NormAfterClipping}"));
        Assert.DoesNotContain(results.SelectMany(r => r.Alerts), a => a.Kind == GradientAlertKind.PersistentClipping);
    }

    [Fact]
    public void Turning_SkipNonFiniteSteps_off_after_attach_still_skips_a_non_finite_step()
    {
        manual_seed(141);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        GradientMonitorOptions? seen = null;
        using var monitor = model.AttachGradientMonitor(o => seen = o);
        seen!.SkipNonFiniteSteps = false;
        seen.NonFinite.Enabled = false;

        using var scope = NewDisposeScope();
        Tensor loss = model.call(randn(4, 8)).square().mean() * double.NaN;
        loss.backward();
        GradientStepResult result = monitor.Step(loss);

        Assert.True(result.SkipStep);
        Assert.Contains(result.Alerts, a => a.Kind == GradientAlertKind.NonFinite);
    }
}
