using System.Diagnostics.Metrics;

namespace GradientDiagnostics.Tests.Telemetry;

/// <summary>An <see cref="IMeterFactory"/> whose meters carry it as their scope, so a test's
/// <c>MetricCollector</c> sees only its own monitor even when tests run in parallel.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (Meter meter in _meters)
        {
            meter.Dispose();
        }
    }
}
