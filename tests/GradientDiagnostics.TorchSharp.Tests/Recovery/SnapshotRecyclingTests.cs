using GradientDiagnostics.TorchSharp.Recovery;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Recovery;

public sealed class SnapshotRecyclingTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_recycled_snapshot_keeps_its_tensors_and_restores_the_newer_state_bit_exactly(bool adam)
    {
        manual_seed(11);
        using var model = nn.Sequential(("fc0", nn.Linear(6, 16)), ("act", nn.ReLU()), ("head", nn.Linear(16, 1)));
        using optim.Optimizer optimizer = adam ? optim.Adam(model.parameters(), 0.01) : optim.SGD(model.parameters(), 0.01, momentum: 0.9);
        var helper = (OptimizerHelper)optimizer;
        List<Tensor> state = [.. model.parameters(), .. model.buffers()];
        var generator = new Generator(7);
        void Train(int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                Tensor x = randn([8, 6], generator: generator);
                nn.functional.mse_loss(model.call(x), x.sum(1, keepdim: true)).backward();
                optimizer.step();
            }
        }

        Train(3);
        TrainingStateSnapshot first = TrainingStateSnapshot.Capture(state, helper, onDevice: false);
        Train(4);
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        TrainingStateSnapshot recycled = TrainingStateSnapshot.Capture(state, helper, onDevice: false, reuse: first);
        long bytes = recycled.Bytes;

        Assert.Same(first, recycled);
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount); // no new native tensor for the copies
        List<Tensor> expected = [.. state.Select(t => t.detach().clone())];
        byte[] expectedOptimizer = OptimizerBytes(helper);

        Train(5);
        recycled.Restore(state, helper);

        // torch.equal compares element-wise in TorchSharp 0.107; the states are finite, so every element must match.
        Assert.All(state.Zip(expected), pair => Assert.True(equal(pair.First, pair.Second).all().item<bool>()));
        Assert.Equal(expectedOptimizer, OptimizerBytes(helper));
        Assert.Equal(bytes, recycled.Bytes);
        recycled.Dispose();
        expected.ForEach(t => t.Dispose());
    }

    private static byte[] OptimizerBytes(OptimizerHelper optimizer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            foreach (OptimizerState state in optimizer.state_dict().State)
            {
                state.SaveStateDict(writer);
            }
        }

        return stream.ToArray();
    }
}
