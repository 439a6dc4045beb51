using TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>The reference workloads of the performance issue, all on CPU, with a fixed seed.</summary>
public sealed class Workload : IDisposable
{
    private readonly Func<Tensor> _makeInput;
    private readonly Func<Tensor, Tensor> _forward;
    private ScalarType? _dtype;
    private Device? _device;

    private Workload(string name, nn.Module model, Func<Tensor> makeInput, Func<Tensor, Tensor> forward)
    {
        Name = name;
        Model = model;
        _makeInput = makeInput;
        _forward = forward;
    }

    /// <summary>The workload names accepted by <see cref="Create"/>.</summary>
    public static readonly string[] All = ["a_mlp_50x512", "b_mlp_500x64", "c_cnn", "d_lstm", "a_mlp_50x512_batch512"];

    public string Name { get; }

    public nn.Module Model { get; }

    public static Workload Create(string name)
    {
        manual_seed(1234);
        return name switch
        {
            "a_mlp_50x512" => Mlp(name, layers: 50, width: 512, batch: 64),
            "a_mlp_50x256" => Mlp(name, layers: 50, width: 256, batch: 64),
            "a_mlp_50x128" => Mlp(name, layers: 50, width: 128, batch: 64),
            "a_mlp_50x512_batch512" => Mlp(name, layers: 50, width: 512, batch: 512),
            "b_mlp_500x64" => Mlp(name, layers: 500, width: 64, batch: 64),
            // The device-path issue's models: 200 parameter tensors and 105 MB of float32 gradients; 20 large tensors.
            "e_mlp_100x512" => Mlp(name, layers: 100, width: 512, batch: 64),
            "f_mlp_10x1024" => Mlp(name, layers: 10, width: 1024, batch: 64),
            "b_mlp_250x64" => Mlp(name, layers: 250, width: 64, batch: 64),
            "b_mlp_100x64" => Mlp(name, layers: 100, width: 64, batch: 64),
            // The bytes of (b) in two tensors (1442² + 1442 = 2,080,806 vs 500·(64² + 64) = 2,080,000 parameters): the
            // difference from (b) is the fixed cost of 998 more parameter tensors (and 499 more layers).
            "b_flat_1x1442" => Mlp(name, layers: 1, width: 1442, batch: 64),
            // A tiny model for the foreign-Step() control of the paired comparison.
            "tiny_mlp_2x8" => Mlp(name, layers: 2, width: 8, batch: 4),
            "c_cnn" => Cnn(name),
            "d_lstm" => Lstm(name),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown workload."),
        };
    }

    private static Workload Mlp(string name, int layers, int width, int batch)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < layers; i++)
        {
            modules.Add(($"fc{i}", nn.Linear(width, width)));
            modules.Add(($"relu{i}", nn.ReLU()));
        }

        var model = nn.Sequential(modules);
        return new Workload(name, model, () => randn(batch, width), x => model.call(x).square().mean());
    }

    private static Workload Cnn(string name)
    {
        var model = nn.Sequential(
            ("conv1", nn.Conv2d(3, 32, 3, padding: 1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(32, 64, 3, padding: 1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("conv3", nn.Conv2d(64, 64, 3, padding: 1)), ("relu3", nn.ReLU()), ("pool3", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()), ("fc1", nn.Linear(64 * 4 * 4, 128)), ("relu4", nn.ReLU()), ("fc2", nn.Linear(128, 10)));
        return new Workload(name, model, () => randn(32, 3, 32, 32), x => model.call(x).square().mean());
    }

    private static Workload Lstm(string name)
    {
        var model = new LstmRegressor();
        return new Workload(name, model, () => randn(16, 100, 32), x => model.call(x).square().mean());
    }

    /// <summary>The workload <paramref name="name"/> with its model moved to <paramref name="dtype"/> and
    /// <paramref name="device"/> (each when given) before anything reads its parameters (<c>model.to</c> replaces them);
    /// inputs follow.</summary>
    public static Workload Create(string name, ScalarType? dtype, Device? device)
    {
        Workload workload = Create(name);
        if (dtype is ScalarType type)
        {
            workload.Model.to(type);
        }

        if (device is not null)
        {
            workload.Model.to(device);
        }

        workload._dtype = dtype;
        workload._device = device;
        return workload;
    }

    /// <summary>One plain training step's forward and backward: leaves fresh gradients on every parameter.</summary>
    public Tensor ForwardBackward()
    {
        using Tensor input = MakeInput();
        Tensor loss = _forward(input);
        loss.backward();
        return loss;
    }

    public void Dispose() => Model.Dispose();

    private Tensor MakeInput()
    {
        Tensor made = _makeInput();
        if (_dtype is null && _device is null)
        {
            return made;
        }

        using (made)
        {
            return made.to(_dtype ?? made.dtype, _device ?? made.device);
        }
    }

    /// <summary>A 2-layer LSTM, hidden 256, over sequences of 100 steps, batch 16, with a linear head.</summary>
    private sealed class LstmRegressor : nn.Module<Tensor, Tensor>
    {
        private readonly global::TorchSharp.Modules.LSTM lstm = nn.LSTM(32, 256, numLayers: 2, batchFirst: true);
        private readonly global::TorchSharp.Modules.Linear head = nn.Linear(256, 1);

        public LstmRegressor()
            : base(nameof(LstmRegressor)) => RegisterComponents();

        public override Tensor forward(Tensor input)
        {
            (Tensor output, Tensor h, Tensor c) = lstm.call(input);
            using (h)
            using (c)
            using (output)
            {
                return head.call(output);
            }
        }
    }
}
