namespace GradientDiagnostics;

/// <summary>One criterion that fired for an alert: the measured quantity, its value and the threshold it crossed. A
/// detector that finds several of its criteria crossed on one layer at one step raises one alert carrying all of them
/// (<see cref="GradientAlert.Criteria"/>), at full precision.</summary>
public sealed class GradientAlertCriterion
{
    /// <summary>Creates a criterion.</summary>
    /// <param name="metric">The measured quantity, one of <see cref="GradientMetricNames"/>.</param>
    /// <param name="value">Its measured value.</param>
    /// <param name="threshold">The threshold the value crossed.</param>
    public GradientAlertCriterion(string metric, double value, double threshold)
    {
        ArgumentNullException.ThrowIfNull(metric);
        Metric = metric;
        Value = value;
        Threshold = threshold;
    }

    /// <summary>The measured quantity, one of the constants in <see cref="GradientMetricNames"/>.</summary>
    public string Metric { get; }

    /// <summary>The measured value of <see cref="Metric"/> at the alert's step, in the metric's own unit.</summary>
    public double Value { get; }

    /// <summary>The threshold that <see cref="Value"/> crossed, in the same unit.</summary>
    public double Threshold { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Metric} = {MessageNumber.Format(Value)} (threshold {MessageNumber.Format(Threshold)})";
}
