namespace GradientDiagnostics.Tests.Detection;

/// <summary>Builds real observations from real arrays for detector tests.</summary>
internal static class Synthetic
{
    public static float[] Filled(int count, float value) => Enumerable.Repeat(value, count).ToArray();

    /// <summary>Normal-ish weights with the given standard deviation (deterministic).</summary>
    public static float[] Weights(int count, double std, int seed = 1)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(std * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];
    }

    /// <summary>Pre-activations [samples, units] with a given fraction of elements in the saturated range.</summary>
    public static float[] PreActivations(int samples, int units, double saturatedFraction, int seed = 2)
    {
        var random = new Random(seed);
        int saturated = (int)Math.Round(samples * units * saturatedFraction);
        return [.. Enumerable.Range(0, samples * units).Select(i => i < saturated ? 20f * (i % 2 == 0 ? 1 : -1) * 1.5f : (float)(random.NextDouble() - 0.5))];
    }

    public static LayerObservation Gradient(int count, float value) => LayerObservations.Create(Filled(count, value));

    public static GradientAnalyzer Analyzer(IReadOnlyList<LayerDescriptor> layers, Action<GradientMonitorOptions>? configure = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        var options = new GradientMonitorOptions();
        configure?.Invoke(options);
        return new GradientAnalyzer(layers, options, logger);
    }

    public static LayerDescriptor[] Linear(int count, int width, ActivationKind activation) =>
        [.. Enumerable.Range(0, count).Select(i => new LayerDescriptor($"fc{i}") { FanIn = width, FanOut = width, FollowingActivation = activation })];
}
