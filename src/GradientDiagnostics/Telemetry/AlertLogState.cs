using System.Collections;

namespace GradientDiagnostics;

/// <summary>The structured state of an alert's log entry: the fields of <see cref="Log.Alert"/>'s template, then
/// <c>Origin</c> (<see cref="GradientAlert.Origin"/>, null for most alerts; a field of the state only, since the diagnosis
/// already names the origin in words) and <c>{OriginalFormat}</c> last, as the [LoggerMessage] generator lays them out.</summary>
internal readonly struct AlertLogState(GradientAlert alert, string template) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 9;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("Kind", alert.Kind),
        1 => new("Step", alert.Step),
        2 => new("Layer", alert.Layer),
        3 => new("Metric", alert.Metric),
        4 => new("Value", alert.Value),
        5 => new("Threshold", alert.Threshold),
        6 => new("Diagnosis", alert.Message),
        7 => new("Origin", alert.Origin),
        8 => new("{OriginalFormat}", template),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The message: the template with its fields filled in.</summary>
    public override string ToString()
    {
        string head = template.StartsWith("{Kind} gradient", StringComparison.Ordinal) ? $"{alert.Kind} gradient" : $"{alert.Kind}";
        return $"{head} at step {alert.Step} in layer {alert.Layer}: {alert.Metric} = {alert.Value} (threshold {alert.Threshold}). {alert.Message}";
    }
}
