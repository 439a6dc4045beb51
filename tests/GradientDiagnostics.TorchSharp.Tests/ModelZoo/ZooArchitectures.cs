using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.ModelZoo;

/// <summary>TorchVision's ResNet-18 and MobileNetV2 as users get them, with 10 classes: ResNet-18 at batch 4 on 32×32 images, MobileNetV2 at batch 4 on 64×64.</summary>
/// <remarks>Not batch 2: both nets downsample 32×32 to 1×1, and BatchNorm over two values normalizes them to ±1 whatever
/// they are, so its input gradient is zero in exact arithmetic and rounding noise over a tiny σ (measured: global norm
/// 1.3e7 on MobileNetV2 at step 0). The Exploding alert on it is right; that is not healthy training. MobileNetV2 at
/// batch 4 on 32×32 still had one layer's norm 1e4 times a later one's at step 0, at the alert threshold.</remarks>
internal sealed class VisionModel(nn.Module<Tensor, Tensor> model, string deepParameter, int batch, int size) : ZooModel
{
    public override nn.Module Model => model;

    public override string DeepParameter => deepParameter;

    public static VisionModel ResNet18() => new(torchvision.models.resnet18(num_classes: 10), "layer4.1.conv1.weight", 4, 32);

    public static VisionModel MobileNetV2() => new(torchvision.models.mobilenet_v2(num_classes: 10), "features.16.conv.1.0.weight", 4, 64);

    public override Tensor Loss(Generator generator)
    {
        Tensor x = randn([batch, 3, size, size], generator: generator);
        Tensor y = randint(10, [batch], generator: generator);
        return nn.functional.cross_entropy(model.call(x), y);
    }
}

/// <summary>A token classifier on TorchSharp's native <c>nn.TransformerEncoder</c> (2 layers, d_model 32, 4 heads):
/// embedding, encoder, mean over the sequence, linear head. Called through <c>call(src, mask, key-padding mask)</c>.</summary>
internal sealed class TransformerClassifier : ZooModel
{
    private readonly Classifier _model = new();

    public override nn.Module Model => _model;

    public override string DeepParameter => "encoder.layers.1.self_attn.in_proj_bias";

    public override Tensor Loss(Generator generator)
    {
        Tensor tokens = randint(50, [8, 4], generator: generator); // [sequence, batch]
        Tensor y = randint(5, [4], generator: generator);
        return nn.functional.cross_entropy(_model.call(tokens), y);
    }

    private sealed class Classifier : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding embedding = nn.Embedding(50, 32);
        private readonly TransformerEncoder encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, dropout: 0), 2);
        private readonly Linear head = nn.Linear(32, 5);

        public Classifier()
            : base(nameof(TransformerClassifier))
        {
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens) => head.call(encoder.call(embedding.call(tokens), null!, null!).mean([0]));
    }
}

/// <summary>Pre-LayerNorm self-attention blocks on TorchSharp's native <c>nn.MultiheadAttention</c>, called as
/// <c>attn.call(q, k, v, null, false, null).Item1</c>: the model whose own graph leaks two tensors a step.</summary>
internal sealed class AttentionModel : ZooModel
{
    private readonly Net _model = new();

    public override nn.Module Model => _model;

    public override string DeepParameter => "attn2.out_proj.weight";

    public override Tensor Loss(Generator generator)
    {
        Tensor tokens = randint(50, [8, 4], generator: generator);
        Tensor y = randint(5, [4], generator: generator);
        return nn.functional.cross_entropy(_model.call(tokens), y);
    }

    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding embedding = nn.Embedding(50, 32);
        private readonly LayerNorm norm1 = nn.LayerNorm(32);
        private readonly MultiheadAttention attn1 = nn.MultiheadAttention(32, 4);
        private readonly LayerNorm norm2 = nn.LayerNorm(32);
        private readonly MultiheadAttention attn2 = nn.MultiheadAttention(32, 4);
        private readonly Linear head = nn.Linear(32, 5);

        public Net()
            : base(nameof(AttentionModel))
        {
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens)
        {
            Tensor x = embedding.call(tokens);
            Tensor a = norm1.call(x);
            x = x + attn1.call(a, a, a, null, false, null).Item1;
            Tensor b = norm2.call(x);
            x = x + attn2.call(b, b, b, null, false, null).Item1;
            return head.call(x.mean([0]));
        }
    }
}

/// <summary>A sequence tagger: embedding, a 2-layer LSTM or GRU, a linear head per token.</summary>
internal sealed class RecurrentTagger : ZooModel
{
    private readonly Net _model;

    private RecurrentTagger(bool lstm) => _model = new Net(lstm);

    public override nn.Module Model => _model;

    public override string DeepParameter => "rnn.weight_hh_l1";

    public static RecurrentTagger Lstm() => new(lstm: true);

    public static RecurrentTagger Gru() => new(lstm: false);

    public override Tensor Loss(Generator generator)
    {
        Tensor tokens = randint(50, [10, 4], generator: generator); // [sequence, batch]
        Tensor tags = randint(5, [10 * 4], generator: generator);
        return nn.functional.cross_entropy(_model.call(tokens).reshape(-1, 5), tags);
    }

    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding embedding = nn.Embedding(50, 16);
        private readonly nn.Module rnn;
        private readonly Linear head = nn.Linear(32, 5);

        public Net(bool lstm)
            : base(lstm ? "LstmTagger" : "GruTagger")
        {
            rnn = lstm ? nn.LSTM(16, 32, numLayers: 2) : nn.GRU(16, 32, numLayers: 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens)
        {
            Tensor x = embedding.call(tokens);
            Tensor h = rnn switch
            {
                LSTM lstm => lstm.call(x, null).Item1,
                GRU gru => gru.call(x, null!).Item1,
                _ => throw new InvalidOperationException(),
            };
            return head.call(h);
        }
    }
}

/// <summary>The style of TorchSharp's own example models: <c>forward</c> calls its children with <c>child.forward(x)</c>,
/// which runs no hooks.</summary>
internal sealed class ForwardCallingModel : ZooModel
{
    private readonly Net _model = new();

    public override nn.Module Model => _model;

    public override string DeepParameter => "fc2.weight";

    public override Tensor Loss(Generator generator)
    {
        Tensor x = randn([8, 1, 12, 12], generator: generator);
        Tensor y = randint(10, [8], generator: generator);
        return nn.functional.cross_entropy(_model.call(x), y);
    }

    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1 = nn.Conv2d(1, 8, 3);
        private readonly Conv2d conv2 = nn.Conv2d(8, 16, 3);
        private readonly Linear fc1 = nn.Linear(16 * 4 * 4, 32);
        private readonly Linear fc2 = nn.Linear(32, 10);

        public Net()
            : base(nameof(ForwardCallingModel))
        {
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            x = nn.functional.relu(conv1.forward(x));
            x = nn.functional.max_pool2d(nn.functional.relu(conv2.forward(x)), 2);
            x = nn.functional.relu(fc1.forward(x.flatten(1)));
            return fc2.forward(x);
        }
    }
}
