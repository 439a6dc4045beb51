using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

public sealed class LayerDiscoveryTests
{
    [Fact]
    public void Descriptors_carry_fan_in_fan_out_and_the_following_activation()
    {
        using var model = nn.Sequential(
            ("conv", nn.Conv2d(3, 8, 3)), ("bn", nn.BatchNorm2d(8)), ("act0", nn.ReLU()),
            ("flat", nn.Flatten()),
            ("block", nn.Sequential(("fc", nn.Linear(32, 16)), ("drop", nn.Dropout(0.1)), ("act", nn.Tanh()))),
            ("fc2", nn.Linear(16, 16)), ("act2", nn.Sigmoid()),
            ("inner", nn.Sequential(("fc3", nn.Linear(16, 4)))), ("act3", nn.GELU()),
            ("head", nn.Linear(4, 1)));
        using var monitor = model.AttachGradientMonitor();

        LayerDescriptor[] d = [.. monitor.Descriptors];

        Assert.Equal(["conv", "bn", "block.fc", "fc2", "inner.fc3", "head"], d.Select(x => x.Name));
        Assert.Equal((27, 72, ActivationKind.Unknown), (d[0].FanIn!.Value, d[0].FanOut!.Value, d[0].FollowingActivation)); // 3·3·3, 8·3·3; followed by bn
        Assert.Equal(ActivationKind.ReLU, d[1].FollowingActivation);
        Assert.Null(d[1].FanIn);
        Assert.Equal((32, 16, ActivationKind.Tanh), (d[2].FanIn!.Value, d[2].FanOut!.Value, d[2].FollowingActivation)); // dropout skipped
        Assert.Equal(ActivationKind.Sigmoid, d[3].FollowingActivation);
        Assert.Equal(ActivationKind.GELU, d[4].FollowingActivation); // last child of a Sequential: what follows the Sequential
        Assert.Equal(ActivationKind.Unknown, d[5].FollowingActivation);
    }

    [Fact]
    public void Mlp_blocks_report_their_activation()
    {
        using var model = Mlp.Create(depth: 3, 8, Activation.Sigmoid, Init.Xavier);
        using var monitor = model.AttachGradientMonitor();

        Assert.Equal([ActivationKind.Sigmoid, ActivationKind.Sigmoid, ActivationKind.Unknown], monitor.Descriptors.Select(d => d.FollowingActivation));
    }
}
