namespace GradientDiagnostics;

/// <summary>One recurrent profile's history: its latest measured profile and the horizon and gain over training.</summary>
internal sealed class TimeProfileSeries(string name)
{
    private List<TimeProfilePoint> _points = [];

    public string Name { get; } = name;

    /// <summary>The latest measured profile and its step.</summary>
    public (long Step, RecurrentTimeProfile Profile)? Latest { get; private set; }

    /// <summary>The horizon and gain at the measured steps kept, in step order.</summary>
    public IReadOnlyList<TimeProfilePoint> Points => _points;

    public void Add(long step, RecurrentTimeProfile profile, int maxPoints)
    {
        Latest = (step, profile);
        _points.Add(new TimeProfilePoint(step, profile.MemoryHorizon, profile.SequenceLength, profile.GainPerStep));
        if (_points.Count > maxPoints)
        {
            _points = [.. _points.Where((_, i) => i % 2 == 0)];
        }
    }

    public TimeProfileSeries Copy() => new(Name) { Latest = Latest, _points = [.. _points] };
}

/// <summary>A profile's figures at one measured step.</summary>
/// <param name="Step">The training step.</param>
/// <param name="Horizon">The memory horizon; null when the signal kept above the fraction over the whole sequence.</param>
/// <param name="SequenceLength">The sequence length T.</param>
/// <param name="GainPerStep">The per-step gain.</param>
internal readonly record struct TimeProfilePoint(long Step, int? Horizon, int SequenceLength, double GainPerStep);
