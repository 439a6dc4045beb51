using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>Runs alone: managed-memory readings are process-wide, so tests allocating in parallel would blur them.</summary>
[Collection(nameof(MemoryTests))]
[CollectionDefinition(nameof(MemoryTests), DisableParallelization = true)]
public sealed class MemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void Two_thousand_steps_with_probes_leave_no_live_tensors_and_flat_managed_memory()
    {
        manual_seed(70);
        using var model = Mlp.Create(depth: 2, 4, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(o =>
        {
            o.CaptureLayerOutputs = true;
            o.FullStatisticsInterval = 1; // every step probes, summarizes activations and copies parameters
            o.CaptureParameterUpdates = true;
        });
        using var optimizer = optim.SGD(model.parameters(), 1e-3);
        using var x = randn(2, 4);
        using var y = randn(2, 1);

        long liveAfterWarmup = 0, managedAfterWarmup = 0;
        for (int step = 0; step < 2000; step++)
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                nn.functional.mse_loss(model.call(x), y).backward();
                GradientStepResult result = monitor.Step();
                Assert.NotNull(result.DepthGain);
                optimizer.step();
            }

            if (step == 199)
            {
                (liveAfterWarmup, managedAfterWarmup) = (DisposeScopeManager.Statistics.ThreadTotalLiveCount, ManagedBytes());
            }
        }

        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount, managed = ManagedBytes();
        output.WriteLine($"live tensors {liveAfterWarmup} -> {live}; managed bytes {managedAfterWarmup} -> {managed}");
        Assert.Equal(liveAfterWarmup, live);
        Assert.InRange(managed - managedAfterWarmup, long.MinValue, 256 * 1024); // 1,800 steps: < 150 bytes a step
    }

    private static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
