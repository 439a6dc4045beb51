using System.Globalization;
using Microsoft.Extensions.Logging.Testing;

namespace GradientDiagnostics.Tests.Detection;

/// <summary>Criteria of one detector that cross on one layer at one step make one alert; its log entry keeps every
/// criterion at full precision while the text writes 3 significant digits.</summary>
public sealed class AlertFindingsTests
{
    private static LayerObservation Layer(int elements, float value) =>
        new(TensorStatistics.Compute(Enumerable.Repeat(value, elements).ToArray()));

    [Fact]
    public void Mean_and_ratio_crossing_on_one_layer_make_one_alert_whose_log_entry_keeps_both_criteria_at_full_precision()
    {
        var logger = new FakeLogger();
        var options = new GradientMonitorOptions();
        (options.Vanishing.Persistence, options.Vanishing.PersistenceWindow) = (1, 1);
        var analyzer = new GradientAnalyzer(["layer0", "layer1"], options, logger);

        GradientAlert alert = Assert.Single(analyzer.Analyze([Layer(100, 1.2345678e-9f), Layer(100, 1e-3f)]).Alerts);

        Assert.Equal([GradientMetricNames.MeanAbsoluteGradient, GradientMetricNames.NormRatioToLaterLayers], alert.Criteria.Select(c => c.Metric));
        Assert.Equal((alert.Metric, alert.Value, alert.Threshold), (alert.Criteria[0].Metric, alert.Criteria[0].Value, alert.Criteria[0].Threshold));
        // One headline with both criteria, in the order the detector adds them.
        Assert.StartsWith("Gradients vanish in 'layer0': mean |g| ", alert.Message, StringComparison.Ordinal);
        int mean = alert.Message.IndexOf("mean |g| 1.23e-09 (threshold 1e-07); ", StringComparison.Ordinal);
        int ratio = alert.Message.IndexOf("; gradient norm 1.23e-06× the largest", StringComparison.Ordinal);
        Assert.True(mean > 0 && ratio > mean, alert.Message);
        Assert.Contains("and the loss (threshold 0.0001).", alert.Message, StringComparison.Ordinal);
        Assert.Single(alert.Causes, c => c.Id == GradientAlertCause.InitScale);

        FakeLogRecord record = Assert.Single(logger.Collector.GetSnapshot());
        Assert.StartsWith("Vanishing gradient at step 0 in layer ", record.Message, StringComparison.Ordinal);
        Assert.Contains("layer0: mean_abs_grad = 1.23e-09", record.Message, StringComparison.Ordinal);
        Assert.Contains("(threshold 1e-07). Gradients vanish", record.Message, StringComparison.Ordinal);
        foreach (GradientAlertCriterion c in alert.Criteria)
        {
            Assert.Equal(c.Value, double.Parse(record.GetStructuredStateValue(c.Metric)!, CultureInfo.InvariantCulture));
            Assert.Equal(c.Threshold, double.Parse(record.GetStructuredStateValue(c.Metric + "_threshold")!, CultureInfo.InvariantCulture));
        }

        Assert.Equal(alert.Value, double.Parse(record.GetStructuredStateValue("Value")!, CultureInfo.InvariantCulture));
        Assert.NotEqual(1.23e-9, alert.Value); // the full value, not the printed one
    }

    [Theory]
    [InlineData(1.4114276684945496E-18, "1.41e-18")]
    [InlineData(1e-7, "1e-07")]
    [InlineData(0.0685432, "0.0685")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(12345.678, "1.23e+04")]
    [InlineData(64, "64")]
    [InlineData(double.NaN, "NaN")]
    public void Message_numbers_have_3_significant_digits_and_a_lower_case_exponent(double value, string expected)
    {
        Assert.Equal(expected, MessageNumber.Format(value));
    }
}
