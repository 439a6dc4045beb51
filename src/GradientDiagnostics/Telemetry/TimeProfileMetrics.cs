using System.Diagnostics.Metrics;

namespace GradientDiagnostics;

/// <summary>Records the recurrent layers' per-step gain and memory horizon on the steps that measured time profiles
/// (<see cref="GradientTelemetryInstruments.LayerGainPerStep"/>, <see cref="GradientTelemetryInstruments.LayerMemoryHorizon"/>).
/// Recurrent layers are few, so their tags are made once per profile name and reused.</summary>
internal sealed class TimeProfileMetrics(Meter meter)
{
    private readonly Gauge<double> _gain = meter.CreateGauge<double>(GradientTelemetryInstruments.LayerGainPerStep, "1",
        "A recurrent layer's per-step gain through time: the factor by which its back-propagated gradient changes per time step.");

    private readonly Gauge<int> _horizon = meter.CreateGauge<int>(GradientTelemetryInstruments.LayerMemoryHorizon, "{step}",
        "How many steps back a recurrent layer's gradient keeps the horizon fraction of its size at the loss (the sequence length when it never falls below).");

    private readonly Dictionary<string, KeyValuePair<string, object?>> _tags = new(StringComparer.Ordinal);

    public void Record(GradientStepResult result)
    {
        foreach (RecurrentTimeProfile profile in result.TimeProfiles)
        {
            if (!profile.Measured)
            {
                continue;
            }

            if (!_tags.TryGetValue(profile.Name, out KeyValuePair<string, object?> tag))
            {
                tag = new(GradientTelemetryInstruments.LayerTag, profile.Name);
                _tags.Add(profile.Name, tag);
            }

            if (double.IsFinite(profile.GainPerStep))
            {
                _gain.Record(profile.GainPerStep, tag);
            }

            _horizon.Record(profile.MemoryHorizon ?? profile.SequenceLength, tag);
        }
    }
}
