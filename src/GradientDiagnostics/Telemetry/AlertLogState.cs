using System.Collections;

namespace GradientDiagnostics;

/// <summary>The structured state of an alert's log entry: the fields of <see cref="Log.Alert"/>'s template; then
/// <c>Origin</c> (<see cref="GradientAlert.Origin"/>, null for most alerts; a field of the state only, since the diagnosis
/// already names the origin in words); then for each of the alert's <see cref="GradientAlert.Criteria"/> its value under
/// the metric's name and its threshold under the metric's name + <c>_threshold</c> (full precision); then
/// <c>{OriginalFormat}</c> last, as the [LoggerMessage] generator lays fields out.</summary>
internal readonly struct AlertLogState(GradientAlert alert, string template) : IReadOnlyList<KeyValuePair<string, object?>>
{
    // The template's seven fields and Origin.
    private const int FixedFields = 8;

    /// <summary>The suffix of a criterion's threshold field, after its metric name.</summary>
    public const string ThresholdSuffix = "_threshold";

    public int Count => FixedFields + (2 * alert.Criteria.Count) + 1;

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
        _ when index == Count - 1 => new("{OriginalFormat}", template),
        _ when index >= FixedFields && index < Count - 1 => Criterion(index - FixedFields),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    private KeyValuePair<string, object?> Criterion(int offset)
    {
        GradientAlertCriterion criterion = alert.Criteria[offset / 2];
        return offset % 2 == 0 ? new(criterion.Metric, criterion.Value) : new(criterion.Metric + ThresholdSuffix, criterion.Threshold);
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The message: the template with its fields filled in, numbers with 3 significant digits
    /// (<see cref="MessageNumber"/>).</summary>
    public override string ToString()
    {
        string head = template.StartsWith("{Kind} gradient", StringComparison.Ordinal) ? $"{alert.Kind} gradient" : $"{alert.Kind}";
        return $"{head} at step {alert.Step} in layer {alert.Layer}: {alert.Metric} = {MessageNumber.Format(alert.Value)} (threshold " +
            $"{MessageNumber.Format(alert.Threshold)}). {alert.Message}";
    }
}
