using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>The presets can be passed to <c>AttachGradientMonitor</c> and <c>CheckGradientFlow</c>, and the object is copied:
/// changing it afterwards does not reach the monitor.</summary>
public sealed class PresetTests
{
    private const int Width = 32;

    [Fact]
    public void Sensitive_reports_a_vanishing_sigmoid_mlp_at_step_0_and_Quiet_not_within_5_steps()
    {
        manual_seed(260);
        using var sensitiveModel = Mlp.Create(depth: 20, Width, Activation.Sigmoid, Init.TorchSharpDefault);
        manual_seed(260);
        using var quietModel = Mlp.Create(depth: 20, Width, Activation.Sigmoid, Init.TorchSharpDefault);

        using var sensitive = sensitiveModel.AttachGradientMonitor(GradientMonitorOptions.Sensitive());
        using var quiet = quietModel.AttachGradientMonitor(GradientMonitorOptions.Quiet());
        List<GradientStepResult> loud = Training.Run(sensitiveModel, sensitive, steps: 5, Width);
        List<GradientStepResult> calm = Training.Run(quietModel, quiet, steps: 5, Width);

        // Sensitive: 1 of 1 steps; Quiet: 8 of the last 10 steps (and a ratio of 1e-6).
        Assert.Contains(loud[0].Alerts, a => a.Kind == GradientAlertKind.Vanishing);
        Assert.DoesNotContain(calm.SelectMany(r => r.Alerts), a => a.Kind == GradientAlertKind.Vanishing);
        Assert.NotNull(loud[0].DepthGain);
        Assert.NotNull(calm[0].DepthGain);
    }

    [Fact]
    public void A_preset_changed_after_attach_does_not_reach_the_running_monitor()
    {
        manual_seed(261);
        using var model = Mlp.Create(depth: 20, Width, Activation.Sigmoid, Init.TorchSharpDefault);
        GradientMonitorOptions options = GradientMonitorOptions.Sensitive();
        using var monitor = model.AttachGradientMonitor(options);

        options.Vanishing.Enabled = false;
        options.FullStatisticsInterval = 1;
        List<GradientStepResult> results = Training.Run(model, monitor, steps: 3, Width);

        Assert.Contains(results[0].Alerts, a => a.Kind == GradientAlertKind.Vanishing);
        Assert.Equal([GradientStepKind.Full, GradientStepKind.Cheap, GradientStepKind.Cheap], results.Select(r => r.Kind));
    }

    [Fact]
    public void CheckGradientFlow_takes_a_preset_without_changing_it()
    {
        manual_seed(262);
        using var model = Mlp.Create(depth: 20, Width, Activation.Sigmoid, Init.Xavier);
        using var x = randn(64, Width);
        using var y = randn(64, 1);
        GradientMonitorOptions quiet = GradientMonitorOptions.Quiet();
        GradientMonitorOptions sensitive = GradientMonitorOptions.Sensitive();

        GradientFlowCheckResult quietCheck = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), y), quiet);
        GradientFlowCheckResult sensitiveCheck = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(x), y), sensitive);

        Assert.Equal(GradientFlowVerdict.Vanishing, sensitiveCheck.Verdict);
        Assert.Equal(20, sensitiveCheck.ProbedLayerCount);
        Assert.Equal(quietCheck.DepthGain!.Value, sensitiveCheck.DepthGain!.Value, 1e-9);
        // Quiet's thresholds (ratio 1e-6) are looser than Sensitive's (1e-3): it reports no more criteria.
        Assert.True(quietCheck.Findings.Sum(f => f.Criteria.Count) <= sensitiveCheck.Findings.Sum(f => f.Criteria.Count));
        // The preflight adjusts a copy: the caller's objects keep their values.
        Assert.Equal((20, null, 8, 10), (quiet.FullStatisticsInterval, quiet.CaptureLayerOutputs, quiet.Vanishing.Persistence, quiet.Vanishing.PersistenceWindow));
        Assert.Equal((1, 1), (sensitive.Vanishing.Persistence, sensitive.Vanishing.PersistenceWindow));
    }
}
