using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Detection;

/// <summary>Once the monitor has read a layer's weights (on a full step), every later alert on it uses that scale, whatever
/// kind of step raises it: a deep tanh MLP initialized below the Xavier variance and trained with SGD gets, in its first
/// Vanishing alert, the init scale as first cause and <c>InitializeForGradientFlow</c> as first fix.</summary>
public sealed class InitScaleEvidenceTests(ITestOutputHelper output)
{
    private const int Width = 64;

    [Theory]
    [InlineData(22, 0.25, true)]
    [InlineData(16, 0.2, true)]
    [InlineData(16, 0.35, false)]
    [InlineData(30, 0.2, true)]
    [InlineData(30, 0.35, true)]
    public void First_vanishing_alert_of_a_tanh_mlp_below_the_xavier_variance_names_the_init_scale_first(int depth, double varianceFactor, bool vanishes)
    {
        manual_seed(270);
        using var model = Mlp.Create(depth, Width, Activation.Tanh, Init.Xavier, initScale: Math.Sqrt(varianceFactor));
        using var monitor = model.AttachGradientMonitor();

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 10, Width, learningRate: 0.01);

        GradientAlert? first = results.SelectMany(r => r.Alerts).FirstOrDefault(a => a.Kind == GradientAlertKind.Vanishing);
        if (!vanishes)
        {
            // 16 layers at 0.35× the variance: the signal falls by about √0.35^15 ≈ 4e-4 over the probed depth, above the
            // 1e-4 threshold, so there is no Vanishing alert to diagnose.
            Assert.Null(first);
            Assert.True(results[0].DepthGainOverDepth > new GradientMonitorOptions().Vanishing.RelativeNormThreshold);
            return;
        }

        Assert.NotNull(first);
        output.WriteLine(first.ToString());
        Assert.Equal(GradientAlertCause.InitScale, first.Causes[0].Id);
        Assert.Contains("× the Xavier expectation", first.Causes[0].Text, StringComparison.Ordinal);
        Assert.Equal(GradientAlertFix.InitializeForGradientFlow, first.Fixes[0].Id);
        Assert.Contains("InitializeForGradientFlow", first.Fixes[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void An_alert_on_a_cheap_step_uses_the_weight_scale_read_on_the_last_full_step()
    {
        manual_seed(271);
        using var model = Mlp.Create(depth: 22, Width, Activation.Tanh, Init.Xavier, initScale: 0.5);
        using var monitor = model.AttachGradientMonitor();

        List<GradientStepResult> results = Training.Run(model, monitor, steps: 10, Width, learningRate: 0.01);

        GradientAlert[] cheap = [.. results.Where(r => r.Kind == GradientStepKind.Cheap).SelectMany(r => r.Alerts).Where(a => a.Kind == GradientAlertKind.Vanishing)];
        Assert.NotEmpty(cheap);
        Assert.All(cheap, a => Assert.Null(results[(int)a.Step].Layers.First(l => l.Name == a.Layer).Parameters));
        Assert.All(cheap, a => Assert.Equal(GradientAlertCause.InitScale, a.Causes[0].Id));
        Assert.All(cheap, a => Assert.Contains("vs Xavier", a.Message, StringComparison.Ordinal));
    }
}
