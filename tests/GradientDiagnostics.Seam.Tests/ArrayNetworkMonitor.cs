using System.Diagnostics;

namespace GradientDiagnostics.Seam.Tests;

/// <summary>
/// A framework adapter for <see cref="ArrayNetwork"/> written against the core's public API only, the way a second
/// framework would plug in: it describes the layers, measures them into <see cref="LayerObservation"/>s, hands the
/// analyzer a clipping target over its own gradients, adds its own step observer, and reports its own faults to
/// <see cref="GradientSelfLog"/>. The core decides; this adapter only measures and applies.
/// </summary>
internal sealed class ArrayNetworkMonitor : IDisposable
{
    private readonly ArrayNetwork _network;
    private readonly ArrayClippingTarget _gradients;

    public ArrayNetworkMonitor(ArrayNetwork network, Action<GradientMonitorOptions>? configure = null)
    {
        _network = network;
        var options = new GradientMonitorOptions { CaptureLayerOutputs = true, FullStatisticsInterval = 1 };
        configure?.Invoke(options);
        LayerDescriptor[] layers = [.. Enumerable.Range(0, network.Depth).Select(l => new LayerDescriptor($"fc{l}")
        {
            FanIn = (int)Math.Sqrt(network.Weights[l].Length),
            FanOut = (int)Math.Sqrt(network.Weights[l].Length),
            FollowingActivation = l < network.Depth - 1 ? network.Activation : ActivationKind.Identity,
        })];
        Analyzer = new GradientAnalyzer(layers, options);
        int width = layers[0].FanIn!.Value;
        // The public CPU reference target applies the core's clipping decisions to this network's own arrays, in place.
        _gradients = new ArrayClippingTarget([.. Enumerable.Range(0, network.Depth).Select(l => new[] { new ArrayClippingTarget.Parameter(network.Gradients[l], network.Weights[l], width) })]);
        Target = new CountingTarget(_gradients);
    }

    public GradientAnalyzer Analyzer { get; }

    /// <summary>The clipping target the analyzer is given: the reference target, counted.</summary>
    public CountingTarget Target { get; }

    /// <summary>Measures the network after its backward pass and lets the core decide (and clip).</summary>
    public GradientStepResult Step(double loss)
    {
        long started = Stopwatch.GetTimestamp();
        bool full = Analyzer.NextStepKind == GradientStepKind.Full;
        LayerObservation[] observations = [.. Enumerable.Range(0, _network.Depth).Select(l => new LayerObservation(TensorStatistics.Compute(_network.Gradients[l]))
        {
            Parameters = full ? TensorStatistics.Compute(_network.Weights[l]) : null,
            OutputGradientNorm = full ? _network.OutputGradients[l] : null,
        })];
        return Analyzer.Analyze(observations, loss, Target, started);
    }

    public void Dispose() => Analyzer.Dispose();

    /// <summary>A target of this adapter's own, implementing the public interface by delegating to the reference.</summary>
    internal sealed class CountingTarget(IGradientClippingTarget inner) : IGradientClippingTarget
    {
        public int Scales { get; private set; }

        public void Scale(ReadOnlySpan<double> layerCoefficients)
        {
            Scales++;
            inner.Scale(layerCoefficients);
        }

        public void Clamp(double value) => inner.Clamp(value);

        public void ClipUnitWise(double clipping, double epsilon, ReadOnlySpan<bool> excludedLayers) => inner.ClipUnitWise(clipping, epsilon, excludedLayers);

        public TensorStatistics[] Measure() => inner.Measure();

        public double[] PowerSums(double p) => inner.PowerSums(p);
    }
}
