using System.Globalization;
using System.Text;

namespace GradientDiagnostics.TorchSharp;

/// <summary>Alerts as the Markdown TensorBoard's text pane renders: one list item per alert with its step, severity,
/// kind, layer, the NaN's origin when traced (<see cref="GradientAlert.Origin"/>), the metric and the diagnosis.</summary>
internal static class AlertText
{
    /// <param name="alerts">The alerts to list.</param>
    /// <param name="total">How many alerts there were in all; the rest are counted in a last line.</param>
    public static string Markdown(IReadOnlyList<GradientAlert> alerts, int total)
    {
        var text = new StringBuilder();
        foreach (GradientAlert alert in alerts)
        {
            text.Append(CultureInfo.InvariantCulture, $"- step {alert.Step}: **{alert.Severity} {alert.Kind}** in `{alert.Layer}`");
            if (alert.Origin is string origin)
            {
                text.Append(CultureInfo.InvariantCulture, $", origin `{origin}`");
            }

            // The headline criterion writes its numbers as every message does (GradientAlertCriterion.ToString).
            text.Append(CultureInfo.InvariantCulture, $": {alert.Criteria[0]}. {alert.Message}\n");
        }

        if (total > alerts.Count)
        {
            text.Append(CultureInfo.InvariantCulture, $"- … and {total - alerts.Count} more alerts since the previous write.\n");
        }

        return text.ToString();
    }
}
