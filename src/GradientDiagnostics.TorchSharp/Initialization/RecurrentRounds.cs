using GradientDiagnostics.TorchSharp.Preflight;

namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>The recurrent remedy's sequence inside the initialization's <see cref="GradientFlowPass"/>, whose every pass
/// measures the time profiles with the monitor's own measurement: the analytic start, then measured rounds for tanh RNNs.
/// Each round is one forward and one backward of the remedy's closure.</summary>
internal static class RecurrentRounds
{
    public static void Run(GradientFlowPass pass, RecurrentRemedy recurrent, Func<torch.Tensor> forward, int maxIterations, int? sequenceLength)
    {
        if (recurrent.Layers.Count == 0)
        {
            return;
        }

        recurrent.Start(forward, sequenceLength);
        for (int round = 0; round < maxIterations && !recurrent.Converged; round++)
        {
            pass.Measure(forward, requireScalar: false, out _);
            recurrent.Correct(GainsOf(recurrent.Layers, pass.TimeProfiles));
        }
    }

    /// <summary>The recurrent layers' per-step gain: the geometric mean of the measured profiles' gains (every layer,
    /// stacked layer and direction); null when none was measured.</summary>
    public static double? GainPerStep(IReadOnlyList<RecurrentTimeProfile> profiles) => Mean(profiles.Where(p => p.Measured).Select(p => p.GainPerStep));

    /// <summary>Each layer's gain: the geometric mean over its measured profiles; null where none was measured.</summary>
    private static double?[] GainsOf(IReadOnlyList<RecurrentLayer> layers, IReadOnlyList<RecurrentTimeProfile> profiles) =>
        [.. layers.Select(layer => Mean(profiles.Where(p => p.Layer == layer.Name && p.Measured).Select(p => p.GainPerStep)))];

    private static double? Mean(IEnumerable<double> gains)
    {
        double[] logs = [.. gains.Where(g => double.IsFinite(g) && g > 0).Select(g => Math.Log(g))];
        return logs.Length == 0 ? null : Math.Exp(logs.Average());
    }
}
