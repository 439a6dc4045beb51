namespace GradientDiagnostics.Seam.Tests;

/// <summary>A tiny "framework": a stack of Linear(width, width) layers with an activation after each but the last,
/// trained on an MSE loss with plain SGD, forward and backward computed here in float arrays. It owns its gradients,
/// as a framework does, and knows nothing of the monitor.</summary>
internal sealed class ArrayNetwork
{
    private readonly int _width;
    private readonly Func<float, float> _activation;
    private readonly Func<float, float> _derivative;
    private readonly float[] _input;
    private readonly float[] _target;

    public ArrayNetwork(int depth, int width, ActivationKind activation, double weightStd, int seed)
    {
        _width = width;
        (_activation, _derivative) = activation switch
        {
            ActivationKind.Sigmoid => ((Func<float, float>)(x => 1 / (1 + MathF.Exp(-x))), (Func<float, float>)(x => Sigmoid(x) * (1 - Sigmoid(x)))),
            _ => (x => MathF.Max(x, 0), x => x > 0 ? 1 : 0),
        };
        Activation = activation;
        var random = new Random(seed);
        Weights = [.. Enumerable.Range(0, depth).Select(_ => Enumerable.Range(0, width * width).Select(_ => (float)(weightStd * Normal(random))).ToArray())];
        Gradients = [.. Enumerable.Range(0, depth).Select(_ => new float[width * width])];
        OutputGradients = new double[depth];
        _input = [.. Enumerable.Range(0, width).Select(_ => (float)Normal(random))];
        _target = [.. Enumerable.Range(0, width).Select(_ => (float)Normal(random))];
    }

    public ActivationKind Activation { get; }

    /// <summary>Per layer, its weight matrix (row-major, out × in).</summary>
    public float[][] Weights { get; }

    /// <summary>Per layer, ∂L/∂W after <see cref="Backward"/>.</summary>
    public float[][] Gradients { get; }

    /// <summary>Per layer, ‖∂L/∂z‖ of its pre-activation output after <see cref="Backward"/>.</summary>
    public double[] OutputGradients { get; }

    public int Depth => Weights.Length;

    /// <summary>Forward and backward for the fixed batch of one sample; returns the loss.</summary>
    public float Backward(float lossScale = 1)
    {
        int depth = Depth;
        var inputs = new float[depth][];
        var preActivations = new float[depth][];
        float[] x = _input;
        for (int l = 0; l < depth; l++)
        {
            inputs[l] = x;
            preActivations[l] = MatVec(Weights[l], x);
            x = l < depth - 1 ? [.. preActivations[l].Select(_activation)] : preActivations[l];
        }

        float loss = x.Zip(_target, (y, t) => (y - t) * (y - t)).Sum() / _width * lossScale;
        float[] delta = [.. x.Zip(_target, (y, t) => 2 * (y - t) / _width * lossScale)];
        for (int l = depth - 1; l >= 0; l--)
        {
            if (l < depth - 1)
            {
                delta = [.. delta.Select((d, i) => d * _derivative(preActivations[l][i]))];
            }

            OutputGradients[l] = Math.Sqrt(delta.Sum(d => (double)d * d));
            for (int o = 0; o < _width; o++)
            {
                for (int i = 0; i < _width; i++)
                {
                    Gradients[l][(o * _width) + i] = delta[o] * inputs[l][i];
                }
            }

            delta = TransposedMatVec(Weights[l], delta);
        }

        return loss;
    }

    public void Sgd(float learningRate)
    {
        for (int l = 0; l < Depth; l++)
        {
            for (int i = 0; i < Weights[l].Length; i++)
            {
                Weights[l][i] -= learningRate * Gradients[l][i];
            }
        }
    }

    private static float Sigmoid(float x) => 1 / (1 + MathF.Exp(-x));

    private float[] MatVec(float[] w, float[] x) =>
        [.. Enumerable.Range(0, _width).Select(o => Enumerable.Range(0, _width).Sum(i => w[(o * _width) + i] * x[i]))];

    private float[] TransposedMatVec(float[] w, float[] d) =>
        [.. Enumerable.Range(0, _width).Select(i => Enumerable.Range(0, _width).Sum(o => w[(o * _width) + i] * d[o]))];

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
