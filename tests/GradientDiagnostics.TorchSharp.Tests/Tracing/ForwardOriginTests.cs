using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Tracing;

public sealed class ForwardOriginTests
{
    [Fact]
    public void A_poisoned_batch_is_traced_to_the_parameterless_module_in_the_middle_that_produced_the_NaN()
    {
        using var model = CreateModel();
        using var monitor = model.AttachGradientMonitor(o => o.NonFinite.TraceOrigin = true);

        GradientStepResult clean = Train(model, monitor, poisoned: false);
        GradientStepResult poisoned = Train(model, monitor, poisoned: true);

        Assert.DoesNotContain(clean.Alerts, a => a.Kind == GradientAlertKind.NonFinite);
        GradientAlert alert = Assert.Single(poisoned.Alerts, a => a.Kind == GradientAlertKind.NonFinite);
        Assert.Equal("logscale", alert.Origin); // not fc0 (first) nor head (last), the layers the gradients name
        Assert.Contains("first produced by `logscale`", alert.Message, StringComparison.Ordinal);
        Assert.Equal(GradientAlertCause.ForwardOperation, alert.Causes[0].Id);
        Assert.StartsWith("an operation in `logscale`", alert.Causes[0].Text, StringComparison.Ordinal);
        Assert.Equal(GradientAlertFix.GuardOperation, alert.Fixes[0].Id);
    }

    [Fact]
    public void A_NaN_written_into_a_gradient_after_backward_has_no_forward_origin()
    {
        using var model = CreateModel();
        using var monitor = model.AttachGradientMonitor(o => o.NonFinite.TraceOrigin = true);

        GradientStepResult result = Train(model, monitor, poisoned: false, afterBackward: m =>
        {
            using var grad = m.named_parameters().Single(p => p.name == "fc1.weight").parameter.grad!;
            grad[0, 0] = tensor(float.NaN);
        });

        GradientAlert alert = Assert.Single(result.Alerts, a => a.Kind == GradientAlertKind.NonFinite);
        Assert.Equal("fc1", alert.Layer);
        Assert.Null(alert.Origin);
        Assert.DoesNotContain("forward pass", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_TraceOrigin_no_hook_is_added_and_the_origin_stays_null()
    {
        using var model = CreateModel();
        using var monitor = model.AttachGradientMonitor();

        GradientStepResult poisoned = Train(model, monitor, poisoned: true);

        Assert.Null(monitor.Tracer);
        Assert.Null(Assert.Single(poisoned.Alerts, a => a.Kind == GradientAlertKind.NonFinite).Origin);
    }

    [Fact]
    public void Every_hookable_module_is_traced_and_steps_leave_no_live_tensors()
    {
        using var model = CreateModel();
        using var monitor = model.AttachGradientMonitor(o => o.NonFinite.TraceOrigin = true);
        Assert.Equal(["(root)", "fc0", "act0", "fc1", "logscale", "fc2", "act2", "head"], monitor.Tracer!.TracedModules);

        Train(model, monitor, poisoned: false);
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++)
        {
            Train(model, monitor, poisoned: i % 5 == 0);
        }

        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    /// <summary>fc0 → ReLU → fc1 → log(x + 8) → fc2 → ReLU → head. Clean inputs keep fc1's outputs far above −8; inputs
    /// scaled by 1,000 push some below, and the log turns them into NaN.</summary>
    private static nn.Module<Tensor, Tensor> CreateModel()
    {
        manual_seed(21);
        return nn.Sequential(
            ("fc0", nn.Linear(8, 16)), ("act0", nn.ReLU()),
            ("fc1", nn.Linear(16, 16)), ("logscale", new LogScale()),
            ("fc2", nn.Linear(16, 16)), ("act2", nn.ReLU()),
            ("head", nn.Linear(16, 1)));
    }

    private static GradientStepResult Train(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, bool poisoned, Action<nn.Module>? afterBackward = null)
    {
        using var scope = NewDisposeScope();
        model.zero_grad();
        Tensor x = randn(16, 8);
        if (poisoned)
        {
            x = x * 1000;
        }

        Tensor loss = model.call(x).square().mean();
        loss.backward();
        afterBackward?.Invoke(model);
        return monitor.Step(loss);
    }

    /// <summary>A parameterless module whose log is undefined for inputs below −8.</summary>
    private sealed class LogScale() : nn.Module<Tensor, Tensor>(nameof(LogScale))
    {
        public override Tensor forward(Tensor input) => (input + 8).log();
    }
}
