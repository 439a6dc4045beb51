namespace GradientDiagnostics.Seam.Tests;

/// <summary>The gradient-flow preflight through the public seam alone: the core calls this adapter's
/// <see cref="IGradientFlowPass"/> once and judges the pass it measured.</summary>
public sealed class PreflightSeamTests
{
    [Fact]
    public void A_deep_sigmoid_networks_one_pass_is_judged_vanishing_with_a_float16_check()
    {
        var network = new ArrayNetwork(depth: 12, width: 16, ActivationKind.Sigmoid, weightStd: Math.Sqrt(2.0 / 32), seed: 4);
        var pass = new ArrayPass(network);

        GradientFlowCheckResult result = GradientFlowPreflight.Check(Layers(network), configure: null, pass);

        Assert.Equal(1, pass.Runs);
        Assert.Equal(GradientFlowVerdict.Vanishing, result.Verdict);
        Assert.True(result.DepthGain < 0.5, $"gain {result.DepthGain}");
        Assert.Equal(12, result.ProbedLayerCount);
        Assert.Empty(result.UnprobedLayers);
        Assert.Equal(12, result.Float16.Layers.Count);
        Assert.Contains(result.Findings, a => a.Kind == GradientAlertKind.Vanishing);
    }

    [Fact]
    public void Invalid_options_fail_before_the_adapters_pass_runs()
    {
        var network = new ArrayNetwork(depth: 2, width: 4, ActivationKind.ReLU, weightStd: 0.5, seed: 5);
        var pass = new ArrayPass(network);

        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => GradientFlowPreflight.Check(Layers(network), o => o.Vanishing.RelativeNormThreshold = -1, pass));

        Assert.Contains("Vanishing.RelativeNormThreshold", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, pass.Runs);
    }

    private static LayerDescriptor[] Layers(ArrayNetwork network) =>
        [.. Enumerable.Range(0, network.Depth).Select(l => new LayerDescriptor($"fc{l}")
        {
            FollowingActivation = l < network.Depth - 1 ? network.Activation : ActivationKind.Identity,
        })];

    /// <summary>This adapter's preflight pass: one forward and backward pass of the array network, every layer probed.</summary>
    private sealed class ArrayPass(ArrayNetwork network) : IGradientFlowPass
    {
        public int Runs { get; private set; }

        public GradientFlowMeasurement Measure()
        {
            Runs++;
            float loss = network.Backward();
            return new GradientFlowMeasurement
            {
                Observations = Enumerable.Range(0, network.Depth)
                    .Select(l => LayerObservations.Create(network.Gradients[l], network.Weights[l], outputGradientNorm: network.OutputGradients[l]))
                    .ToArray(),
                Loss = loss,
                Gradients = [.. network.Gradients.Select(g => new ReadOnlyMemory<float>(g.ToArray()))],
            };
        }
    }
}
