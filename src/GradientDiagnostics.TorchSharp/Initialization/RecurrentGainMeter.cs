using GradientDiagnostics.TorchSharp.Preflight;
using GradientDiagnostics.TorchSharp.ThroughTime;

namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>
/// Measures the recurrent layers' per-step gain for the remedy with the monitor's own time-profile measurement
/// (<see cref="TimeProfileMeasurement"/>): one forward of the closure, a backward of its result (a scalar as is, any other
/// output along the preflight's fixed direction), one host transfer. Run inside a <see cref="GradientFlowPass"/>, which
/// restores the gradients this backward leaves.
/// </summary>
internal sealed class RecurrentGainMeter : IDisposable
{
    /// <summary>The sequences a fused module's diagnostic pass re-runs: the monitor's default.</summary>
    private const int MaxSequences = 32;

    /// <summary>The horizon fraction the profiles are built with (the monitor's default); the gain does not depend on it.</summary>
    private const double HorizonFraction = 0.01;

    private readonly TimeProfileMeasurement? _measurement;

    public RecurrentGainMeter(torch.nn.Module model) => _measurement = TimeProfileMeasurement.For(model, HorizonFraction, MaxSequences);

    /// <summary>The profiles of one forward and backward of <paramref name="forward"/>; empty without recurrent layers.</summary>
    public RecurrentTimeProfile[] Measure(Func<torch.Tensor> forward)
    {
        if (_measurement is null)
        {
            return [];
        }

        _measurement.PrepareNextStep(measure: true);
        try
        {
            using var scope = torch.NewDisposeScope();
            torch.Tensor output = forward() ?? throw new InvalidOperationException("The closure returned null instead of a tensor.");
            torch.Tensor objective = output.numel() == 1 ? output.sum() : (output * GradientFlowPass.Direction(output)).sum();
            objective.backward();
            var transfer = new HostTransfer();
            _measurement.Queue(transfer);
            return _measurement.Complete(transfer.Fetch());
        }
        finally
        {
            _measurement.PrepareNextStep(measure: false);
        }
    }

    /// <summary>Each recurrent layer's per-step gain: the geometric mean over its measured profiles (stacked layers and
    /// directions); null where none was measured.</summary>
    public static double?[] GainsOf(IReadOnlyList<RecurrentLayer> layers, RecurrentTimeProfile[] profiles) =>
        [.. layers.Select(layer => Mean(profiles.Where(p => p.Layer == layer.Name && p.Measured).Select(p => p.GainPerStep)))];

    /// <summary>The geometric mean of the finite, positive gains; null when there is none.</summary>
    public static double? Mean(IEnumerable<double> gains)
    {
        double[] logs = [.. gains.Where(g => double.IsFinite(g) && g > 0).Select(g => Math.Log(g))];
        return logs.Length == 0 ? null : Math.Exp(logs.Average());
    }

    public void Dispose() => _measurement?.Dispose();
}
