namespace GradientDiagnostics.Tests;

/// <summary>The whole engine on plain arrays: a real MLP, forward and backward computed here in double precision,
/// observed through <see cref="LayerObservations"/> exactly as an adapter would observe a framework's tensors.</summary>
public sealed class GradientAnalyzerTests
{
    private const int Width = 64, Batch = 16, Depth = 20;

    [Fact]
    public void Vanishing_fires_on_depth_decay_of_a_20_layer_sigmoid_mlp_built_from_arrays()
    {
        var mlp = new ArrayMlp(Depth, Width, ActivationKind.Sigmoid, seed: 1);
        var analyzer = new GradientAnalyzer(mlp.Descriptors, new GradientMonitorOptions());

        GradientStepResult[] results = [.. Enumerable.Range(0, 5).Select(_ => analyzer.Analyze(mlp.TrainStep(learningRate: 0.01), mlp.Loss))];

        // Mean-field theory for sigmoid + Xavier: g = √(σ_w²·n·E[σ'(z)²]) ≈ 0.24 (ENVIRONMENT.md measured 0.24 at width 256).
        Assert.All(results, r => Assert.InRange(r.DepthGain!.Value, 0.15, 0.35));
        GradientAlert[] alerts = [.. results.SelectMany(r => r.Alerts)];
        // The three criteria cross on fc0 at step 2 (3 of 5 steps, then cooldown): one alert carries them all.
        GradientAlert alert = Assert.Single(alerts);
        Assert.Equal((GradientAlertKind.Vanishing, "fc0", 2L), (alert.Kind, alert.Layer, alert.Step));
        Assert.Equal([GradientMetricNames.DepthGainOverDepth, GradientMetricNames.MeanAbsoluteGradient, GradientMetricNames.NormRatioToLaterLayers], alert.Criteria.Select(c => c.Metric));
        Assert.Equal(GradientMetricNames.DepthGainOverDepth, alert.Metric);
        Assert.True(alert.Value < 1e-9, $"g^depth = {alert.Value}");
        Assert.Equal(GradientAlertCause.SaturatingActivation, alert.Causes[0].Id);
        Assert.StartsWith("saturating activation: Sigmoid", alert.Causes[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Relu_he_mlp_of_20_layers_built_from_arrays_raises_no_alert()
    {
        var mlp = new ArrayMlp(Depth, Width, ActivationKind.ReLU, seed: 2);
        var analyzer = new GradientAnalyzer(mlp.Descriptors, new GradientMonitorOptions());

        GradientStepResult[] results = [.. Enumerable.Range(0, 5).Select(_ => analyzer.Analyze(mlp.TrainStep(learningRate: 0.01), mlp.Loss))];

        Assert.Empty(results.SelectMany(r => r.Alerts));
        Assert.All(results, r => Assert.InRange(r.DepthGain!.Value, 0.8, 1.3));
        Assert.All(results, r => Assert.False(r.SkipStep));
    }

    /// <summary>Linear(width, width) layers, each followed by the activation except the last (identity), He init for
    /// ReLU and Xavier otherwise, MSE loss against a fixed random target, plain SGD.</summary>
    private sealed class ArrayMlp
    {
        private readonly int _depth, _width;
        private readonly ActivationKind _activation;
        private readonly float[][] _weights;
        private readonly double[] _input, _target;

        public ArrayMlp(int depth, int width, ActivationKind activation, int seed)
        {
            (_depth, _width, _activation) = (depth, width, activation);
            var random = new Random(seed);
            double std = activation == ActivationKind.ReLU ? Math.Sqrt(2.0 / width) : Math.Sqrt(2.0 / (width + width));
            _weights = [.. Enumerable.Range(0, depth).Select(_ => Enumerable.Range(0, width * width).Select(_ => (float)(std * Normal(random))).ToArray())];
            _input = [.. Enumerable.Range(0, Batch * width).Select(_ => Normal(random))];
            _target = [.. Enumerable.Range(0, Batch * width).Select(_ => Normal(random))];
            Descriptors = [.. Enumerable.Range(0, depth).Select(l => new LayerDescriptor($"fc{l}")
            {
                FanIn = width,
                FanOut = width,
                FollowingActivation = l == depth - 1 ? ActivationKind.Identity : activation,
            })];
        }

        public LayerDescriptor[] Descriptors { get; }

        public double Loss { get; private set; }

        public LayerObservation[] TrainStep(double learningRate)
        {
            // Forward: z_l = h_{l−1} W_lᵀ, h_l = φ(z_l); the last layer is linear.
            var z = new double[_depth][];
            var h = new double[_depth + 1][];
            h[0] = _input;
            for (int l = 0; l < _depth; l++)
            {
                z[l] = MatMulTransposed(h[l], _weights[l]);
                h[l + 1] = l == _depth - 1 ? z[l] : [.. z[l].Select(Activate)];
            }

            Loss = 0;
            var dz = new double[_depth][];
            dz[_depth - 1] = new double[Batch * _width];
            for (int i = 0; i < dz[_depth - 1].Length; i++)
            {
                double error = h[_depth][i] - _target[i];
                Loss += 0.5 * error * error / Batch;
                dz[_depth - 1][i] = error / Batch;
            }

            // Backward: ∂L/∂W_l = dz_lᵀ h_{l−1}; ∂L/∂h_{l−1} = dz_l W_l; dz_{l−1} = ∂L/∂h_{l−1} ⊙ φ'(z_{l−1}).
            var gradients = new float[_depth][];
            for (int l = _depth - 1; l >= 0; l--)
            {
                gradients[l] = new float[_width * _width];
                for (int o = 0; o < _width; o++)
                {
                    for (int i = 0; i < _width; i++)
                    {
                        double sum = 0;
                        for (int b = 0; b < Batch; b++)
                        {
                            sum += dz[l][(b * _width) + o] * h[l][(b * _width) + i];
                        }

                        gradients[l][(o * _width) + i] = (float)sum;
                    }
                }

                if (l > 0)
                {
                    dz[l - 1] = new double[Batch * _width];
                    for (int b = 0; b < Batch; b++)
                    {
                        for (int i = 0; i < _width; i++)
                        {
                            double sum = 0;
                            for (int o = 0; o < _width; o++)
                            {
                                sum += dz[l][(b * _width) + o] * _weights[l][(o * _width) + i];
                            }

                            dz[l - 1][(b * _width) + i] = sum * Derivative(z[l - 1][(b * _width) + i]);
                        }
                    }
                }
            }

            var observations = new LayerObservation[_depth];
            for (int l = 0; l < _depth; l++)
            {
                float[] before = _weights[l];
                float[] after = [.. before.Select((w, i) => (float)(w - (learningRate * gradients[l][i])))];
                observations[l] = LayerObservations.Create(gradients[l], before, outputGradientNorm: Math.Sqrt(dz[l].Sum(v => v * v))) with
                {
                    Activations = LayerObservations.SummarizeActivations([.. z[l].Select(v => (float)v)], _width, Descriptors[l].FollowingActivation),
                };
                _weights[l] = after;
            }

            return observations;
        }

        private double[] MatMulTransposed(double[] input, float[] weights)
        {
            var output = new double[Batch * _width];
            for (int b = 0; b < Batch; b++)
            {
                for (int o = 0; o < _width; o++)
                {
                    double sum = 0;
                    for (int i = 0; i < _width; i++)
                    {
                        sum += input[(b * _width) + i] * weights[(o * _width) + i];
                    }

                    output[(b * _width) + o] = sum;
                }
            }

            return output;
        }

        private double Activate(double z) => _activation == ActivationKind.ReLU ? Math.Max(0, z) : 1 / (1 + Math.Exp(-z));

        private double Derivative(double z) => _activation == ActivationKind.ReLU ? (z > 0 ? 1 : 0) : Activate(z) * (1 - Activate(z));

        private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}
