namespace GradientDiagnostics;

/// <summary>
/// What the report keeps of the recurrent layers' time profiles, in bounded memory: per profile name
/// (<see cref="RecurrentTimeProfile.Name"/>), the latest measured profile and its memory horizon and per-step gain over
/// training, in at most <c>maxPoints</c> points (when full, every other point is dropped, so the kept points stay evenly
/// spread over the run and a live report and one rebuilt from JSON Lines keep the same ones).
/// </summary>
internal sealed class TimeProfileHistory
{
    private readonly int _maxPoints;
    private readonly Dictionary<string, TimeProfileSeries> _series = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public TimeProfileHistory(int maxPoints) => _maxPoints = Math.Max(2, maxPoints);

    public void Add(GradientStepResult result)
    {
        foreach (RecurrentTimeProfile profile in result.TimeProfiles)
        {
            if (!profile.Measured)
            {
                continue;
            }

            if (!_series.TryGetValue(profile.Name, out TimeProfileSeries? series))
            {
                series = new TimeProfileSeries(profile.Name);
                _series.Add(profile.Name, series);
                _order.Add(profile.Name);
            }

            series.Add(result.Step, profile, _maxPoints);
        }
    }

    /// <summary>Immutable copies, in the order the profiles were first seen.</summary>
    public IReadOnlyList<TimeProfileSeries> Snapshot() => [.. _order.Select(name => _series[name].Copy())];
}
