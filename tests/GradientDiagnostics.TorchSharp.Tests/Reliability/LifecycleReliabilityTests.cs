using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Reliability;

/// <summary>Issue 9 §4 and the <c>ReadScalar</c> leak report. Dispose twice, Step after Dispose, two monitors on one
/// model and hook removal by invocation counts are proven in <c>LifecycleTests</c>; these add what it lacks.</summary>
public sealed class LifecycleReliabilityTests
{
    [Fact]
    public void Step_with_the_loss_leaks_no_native_tensor()
    {
        manual_seed(110);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        // Full statistics every other step, so both kinds of step are measured.
        using var monitor = model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 2; });
        using var optimizer = optim.SGD(model.parameters(), 1e-3);
        using var x = randn(4, 8);
        using var y = randn(4, 1);
        var growth = new List<string>();
        var live = new List<long>();

        for (int step = 0; step < 200; step++)
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                var loss = nn.functional.mse_loss(model.call(x), y);
                loss.backward();
                // Step itself never adds a live tensor (on full steps it releases what the probes held since forward).
                long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                GradientStepResult result = monitor.Step(loss);
                long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                if (after > before)
                {
                    growth.Add($"step {step} ({result.Kind}): +{after - before}");
                }

                Assert.Equal(loss.item<float>(), result.Loss!.Value, 1e-6);
                optimizer.step();
            }

            live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }

        Assert.Empty(growth);
        Assert.Single(live.Skip(10).Distinct()); // flat from step to step
    }

    [Fact]
    public void Disposing_the_model_before_the_monitor_is_safe_and_the_monitor_then_disposes_cleanly()
    {
        manual_seed(111);
        var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        var monitor = model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.CaptureParameterUpdates = true; o.FullStatisticsInterval = 2; });
        using (var scope = NewDisposeScope())
        {
            model.call(randn(2, 8)).sum().backward();
            monitor.Step();
        }

        model.Dispose();
        monitor.Dispose();
        monitor.Dispose();

        Assert.Throws<ObjectDisposedException>(() => monitor.Step());
    }

    [Fact]
    public void Attaching_twice_then_disposing_both_removes_every_hook()
    {
        manual_seed(112);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        var first = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        var second = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using var scope = NewDisposeScope();
        model.call(randn(2, 8)).sum().backward();
        (long a, long b) = (first.Probes!.HookInvocations, second.Probes!.HookInvocations);

        first.Dispose();
        second.Dispose();
        model.call(randn(2, 8)).sum().backward();

        Assert.Equal((3L, 3L), (a, b));
        Assert.Equal((a, b), (first.Probes!.HookInvocations, second.Probes!.HookInvocations));
    }
}
