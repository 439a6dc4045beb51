using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Models;

/// <summary>A small residual CNN with BatchNorm (conv → BN → ReLU stem, basic blocks x + BN(conv(ReLU(BN(conv(x))))),
/// global average pooling and a Linear head), calling its children through call().</summary>
internal sealed class ResidualConvNet : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> stem;
    private readonly nn.Module<Tensor, Tensor> bn;
    private readonly nn.Module<Tensor, Tensor> blocks;
    private readonly nn.Module<Tensor, Tensor> head;

    public ResidualConvNet(int channels = 8, int blockCount = 3, int classes = 4)
        : base(nameof(ResidualConvNet))
    {
        stem = nn.Conv2d(3, channels, 3, padding: 1);
        bn = nn.BatchNorm2d(channels);
        blocks = nn.Sequential([.. Enumerable.Range(0, blockCount).Select(i => ($"{i}", (nn.Module<Tensor, Tensor>)new BasicBlock($"block{i}", channels)))]);
        head = nn.Linear(channels, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = blocks.call(nn.functional.relu(bn.call(stem.call(input))));
        return head.call(x.mean([2, 3])).MoveToOuterDisposeScope();
    }

    private sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> conv1;
        private readonly nn.Module<Tensor, Tensor> bn1;
        private readonly nn.Module<Tensor, Tensor> conv2;
        private readonly nn.Module<Tensor, Tensor> bn2;

        public BasicBlock(string name, int channels)
            : base(name)
        {
            conv1 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(channels);
            conv2 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(channels);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            Tensor h = bn2.call(conv2.call(nn.functional.relu(bn1.call(conv1.call(input)))));
            return nn.functional.relu(input + h).MoveToOuterDisposeScope();
        }
    }
}

/// <summary>An MLP whose custom forward calls two of its hidden layers through forward(), so their hooks never run
/// and their output gradients cannot be probed (the pattern of the official TorchSharp examples).</summary>
internal sealed class PartlyHiddenMlp : nn.Module<Tensor, Tensor>
{
    private readonly global::TorchSharp.Modules.Linear[] hidden;
    private readonly global::TorchSharp.Modules.Linear head;

    public PartlyHiddenMlp(int depth, int width)
        : base(nameof(PartlyHiddenMlp))
    {
        hidden = [.. Enumerable.Range(0, depth).Select(_ => nn.Linear(width, width))];
        for (int i = 0; i < hidden.Length; i++)
        {
            register_module($"fc{i}", hidden[i]);
        }

        head = nn.Linear(width, 1);
        register_module("head", head);
    }

    /// <summary>The hidden layers called through forward().</summary>
    public static readonly int[] Hidden = [2, 3];

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = input;
        for (int i = 0; i < hidden.Length; i++)
        {
            x = (Hidden.Contains(i) ? hidden[i].forward(x) : hidden[i].call(x)).relu();
        }

        return head.call(x).MoveToOuterDisposeScope();
    }
}
