namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>The recurrent remedy's sequence: the gain measured as found, the analytic start, measured rounds for tanh RNNs,
/// and the gain measured after. Each measurement is one forward and one backward of the remedy's closure.</summary>
internal static class RecurrentRounds
{
    /// <returns>The recurrent layers' per-step gain (geometric mean over layers) before and after; nulls without any.</returns>
    public static (double? Before, double? After) Run(torch.nn.Module model, RecurrentRemedy recurrent, Func<torch.Tensor> forward, int maxIterations,
        int? sequenceLength)
    {
        if (recurrent.Layers.Count == 0)
        {
            return (null, null);
        }

        using var meter = new RecurrentGainMeter(model);
        double? before = RecurrentGainMeter.Mean(meter.Measure(forward).Where(p => p.Measured).Select(p => p.GainPerStep));
        recurrent.Start(forward, sequenceLength);
        RecurrentTimeProfile[] profiles = meter.Measure(forward);
        for (int round = 0; round < maxIterations && !recurrent.Converged; round++)
        {
            recurrent.Correct(RecurrentGainMeter.GainsOf(recurrent.Layers, profiles));
            profiles = meter.Measure(forward);
        }

        return (before, RecurrentGainMeter.Mean(profiles.Where(p => p.Measured).Select(p => p.GainPerStep)));
    }
}
