using GradientDiagnostics.TorchSharp.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.ThroughTime;

/// <summary>Measuring time profiles on every step leaves no native tensor behind: the cell probes' views and retained
/// states, the fused modules' captures and the diagnostic pass are all released. Runs in the memory collection, alone.</summary>
[Collection(nameof(MemoryTests))]
public sealed class TimeProfileMemoryTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("LSTMCell")]
    [InlineData("GRU")]
    [InlineData("LSTM")]
    public void Three_hundred_measuring_steps_leave_no_live_tensors(string kind)
    {
        manual_seed(51);
        using nn.Module<Tensor, Tensor> model = kind switch
        {
            "LSTMCell" => new CellLoop(nn.LSTMCell(4, 8)),
            "GRU" => new FusedRegressor(nn.GRU(4, 8, numLayers: 2, bidirectional: true)),
            _ => new FusedRegressor(nn.LSTM(4, 8, numLayers: 2, batchFirst: true)),
        };
        using var monitor = model.AttachGradientMonitor(o => (o.ThroughTime.Interval, o.CaptureLayerOutputs) = (1, true));
        using var optimizer = optim.SGD(model.parameters(), 1e-3);
        using var x = randn(12, 3, 4);

        long liveAfterWarmup = 0;
        for (int step = 0; step < 300; step++)
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                Tensor loss = model.call(x).square().mean();
                loss.backward();
                GradientStepResult result = monitor.Step(loss);
                Assert.All(result.TimeProfiles, p => Assert.True(p.Measured, p.NotMeasuredReason));
                Assert.NotEmpty(result.TimeProfiles);
                optimizer.step();
            }

            if (step == 49)
            {
                liveAfterWarmup = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }
        }

        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        output.WriteLine($"{kind}: live tensors {liveAfterWarmup} -> {live}");
        Assert.Equal(liveAfterWarmup, live);
    }
}
