namespace GradientDiagnostics.Tests.Telemetry;

/// <summary>
/// Drives a real <see cref="GradientAnalyzer"/> with real gradient arrays shaped like a deep network whose gradients
/// shrink by <c>gain</c> per layer towards the input (a vanishing profile when gain &lt; 1), with output-gradient norms
/// along the same profile, and a NaN step where asked.
/// </summary>
internal static class SyntheticRun
{
    public static string[] LayerNames(int layers) => [.. Enumerable.Range(0, layers).Select(i => $"blocks.{i}.linear")];

    public static GradientAnalyzer Analyzer(int layers, Action<GradientMonitorOptions>? configure = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        var options = new GradientMonitorOptions();
        options.Vanishing.Persistence = 1;
        options.Vanishing.PersistenceWindow = 1;
        options.Vanishing.CooldownSteps = 0;
        configure?.Invoke(options);
        return new GradientAnalyzer(LayerNames(layers), options, logger);
    }

    public static LayerObservation[] Step(int layers, double gain, int seed, bool nanInFirstLayer = false)
    {
        var random = new Random(seed);
        var observations = new LayerObservation[layers];
        for (int l = 0; l < layers; l++)
        {
            double scale = 0.1 * Math.Pow(gain, layers - 1 - l);
            float[] gradient = new float[256];
            for (int k = 0; k < gradient.Length; k++)
            {
                gradient[k] = (float)(scale * ((random.NextDouble() * 2) - 1));
            }

            if (nanInFirstLayer && l == 0)
            {
                gradient[3] = float.NaN;
            }

            observations[l] = new LayerObservation(TensorStatistics.Compute(gradient))
            {
                OutputGradientNorm = scale * (0.8 + (0.4 * random.NextDouble())),
            };
        }

        return observations;
    }

    /// <summary>Runs <paramref name="steps"/> steps; the step numbers in <paramref name="nanSteps"/> get a NaN gradient.</summary>
    public static List<GradientStepResult> Run(GradientAnalyzer analyzer, int steps, double gain, params int[] nanSteps)
    {
        var results = new List<GradientStepResult>();
        for (int s = 0; s < steps; s++)
        {
            results.Add(analyzer.Analyze(Step(analyzer.LayerNames.Count, gain, seed: s, nanInFirstLayer: nanSteps.Contains(s)), loss: 1.0 / (s + 1)));
        }

        return results;
    }
}
