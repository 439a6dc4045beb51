using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public void Dispose_removes_every_hook_so_they_no_longer_run()
    {
        manual_seed(30);
        using var model = Mlp.Create(depth: 4, 8, Activation.ReLU, Init.He);
        var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        var probes = monitor.Probes!;
        using var scope = NewDisposeScope();

        model.call(randn(2, 8)).sum().backward();
        long before = probes.HookInvocations;
        monitor.Dispose();
        model.call(randn(2, 8)).sum().backward();

        Assert.Equal(4, before); // one per layer
        Assert.Equal(before, probes.HookInvocations);
    }

    [Fact]
    public void Backward_of_a_graph_built_before_dispose_keeps_nothing_alive()
    {
        manual_seed(33);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        using (var scope = NewDisposeScope())
        {
            var loss = model.call(randn(2, 8)).sum(); // probes are in this graph
            long detached = DisposeScopeManager.Statistics.TensorStatistics.DetachedFromScopeCount;
            monitor.Dispose();
            loss.backward();

            // A live probe detaches its accumulator from every scope to keep it until Step(); a disposed one keeps nothing.
            Assert.Equal(detached, DisposeScopeManager.Statistics.TensorStatistics.DetachedFromScopeCount);
        }
    }

    [Fact]
    public void Step_after_dispose_throws_object_disposed()
    {
        using var model = Mlp.Create(depth: 2, 4, Activation.ReLU, Init.He);
        var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        monitor.Dispose();
        monitor.Dispose(); // idempotent

        Assert.Throws<ObjectDisposedException>(() => monitor.Step());
    }

    [Fact]
    public void Two_monitors_on_one_model_work_independently_and_disposing_one_leaves_the_other()
    {
        manual_seed(31);
        using var model = Mlp.Create(depth: 5, 16, Activation.Tanh, Init.Xavier);
        using var first = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        var second = model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 1; });
        using var scope = NewDisposeScope();
        var x = randn(8, 16);

        model.call(x).square().mean().backward();
        GradientStepResult a = first.Step(), b = second.Step();
        for (int i = 0; i < a.Layers.Count; i++)
        {
            Assert.Equal(a.Layers[i].OutputGradientNorm!.Value, b.Layers[i].OutputGradientNorm!.Value, 1e-6 * a.Layers[i].OutputGradientNorm!.Value);
        }

        second.Dispose();
        foreach (var p in model.parameters())
        {
            p.grad = null;
        }

        model.call(x).square().mean().backward();
        GradientStepResult c = first.Step(); // step 1: cheap for the first monitor
        Assert.Equal(GradientStepKind.Cheap, c.Kind);
        Assert.Equal(a.GlobalNorm, c.GlobalNorm, 1e-6 * a.GlobalNorm);
    }

    [Fact]
    public void Alerts_are_raised_on_the_callers_thread_inside_step()
    {
        manual_seed(32);
        using var model = Mlp.Create(depth: 30, 128, Activation.ReLU, Init.He, initScale: 3.0);
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
        var threads = new List<int>();
        bool inStep = false;
        monitor.AlertRaised += (_, _) => { Assert.True(inStep); threads.Add(Environment.CurrentManagedThreadId); };
        using var scope = NewDisposeScope();

        model.call(randn(16, 128)).square().mean().backward();
        inStep = true;
        GradientStepResult result = monitor.Step();
        inStep = false;

        Assert.NotEmpty(result.Alerts);
        Assert.All(threads, t => Assert.Equal(Environment.CurrentManagedThreadId, t));
    }
}
