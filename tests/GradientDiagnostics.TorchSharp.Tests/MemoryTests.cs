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

        long liveAfterWarmup = 0;
        var managed = new List<long>();
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
                liveAfterWarmup = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }

            if (step is 199 or 1099 or 1999)
            {
                managed.Add(ManagedBytes());
            }
        }

        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        output.WriteLine($"live tensors {liveAfterWarmup} -> {live}; managed bytes {string.Join(" -> ", managed)}");
        Assert.Equal(liveAfterWarmup, live);

        // A leak grows in both halves of the 1,800 measured steps. The reading is process-wide: in the full suite it once
        // grew by 274 KB over the whole run (alone: 4-12 KB), so a one-off from the rest of the process may land in one
        // half, but not in both. 128 KiB over 900 steps is < 150 bytes a step.
        long growth = Math.Min(managed[1] - managed[0], managed[2] - managed[1]);
        Assert.InRange(growth, long.MinValue, 128 * 1024);
    }

    private static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
