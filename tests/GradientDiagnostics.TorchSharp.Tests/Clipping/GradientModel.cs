using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Clipping;

/// <summary>A model of named layers holding given parameters, whose gradients the tests set to exact values.</summary>
internal sealed class GradientModel : IDisposable
{
    private GradientModel(nn.Module<Tensor, Tensor> module, Layer[] layers)
    {
        Module = module;
        Layers = layers;
    }

    public nn.Module<Tensor, Tensor> Module { get; }

    public Layer[] Layers { get; }

    /// <summary>Builds layers named g1, g2, … each with the given parameters (name, values, shape).</summary>
    public static GradientModel Create(params (string Name, float[] Values, long[] Shape)[][] layers)
    {
        var built = layers.Select(parameters => new Layer(parameters)).ToArray();
        var module = nn.Sequential([.. built.Select((l, i) => ($"g{i + 1}", (nn.Module<Tensor, Tensor>)l))]);
        return new GradientModel(module, built);
    }

    public Parameter Parameter(int layer, string name) => Layers[layer].Get(name);

    public void SetGradient(int layer, string name, params float[] values)
    {
        Parameter p = Parameter(layer, name);
        using Tensor g = tensor(values).reshape(p.shape);
        p.grad = g.clone();
    }

    public float[] Gradient(int layer, string name)
    {
        using Tensor g = Parameter(layer, name).grad!;
        return g.contiguous().data<float>().ToArray();
    }

    public void Dispose() => Module.Dispose();

    /// <summary>A layer that owns its parameters and passes its input through.</summary>
    internal sealed class Layer : nn.Module<Tensor, Tensor>
    {
        public Layer((string Name, float[] Values, long[] Shape)[] parameters)
            : base("layer")
        {
            foreach ((string name, float[] values, long[] shape) in parameters)
            {
                register_parameter(name, new Parameter(tensor(values).reshape(shape)));
            }
        }

        public Parameter Get(string name) => named_parameters(recurse: false).First(p => p.name == name).parameter;

        public override Tensor forward(Tensor input) => input.alias();
    }
}
