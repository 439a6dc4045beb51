using System.Globalization;
using System.Text;

namespace GradientDiagnostics.TorchSharp;

/// <summary>A step's alerts as the Markdown TensorBoard's text pane renders: one list item per alert with its severity,
/// kind, layer, the NaN's origin when traced (<see cref="GradientAlert.Origin"/>), the metric and the diagnosis.</summary>
internal static class AlertText
{
    public static string Markdown(IReadOnlyList<GradientAlert> alerts, int maxLines)
    {
        var text = new StringBuilder();
        foreach (GradientAlert alert in alerts.Take(maxLines))
        {
            text.Append(CultureInfo.InvariantCulture, $"- **{alert.Severity} {alert.Kind}** in `{alert.Layer}`");
            if (alert.Origin is string origin)
            {
                text.Append(CultureInfo.InvariantCulture, $", origin `{origin}`");
            }

            text.Append(CultureInfo.InvariantCulture, $": {alert.Metric} = {alert.Value:G3} (threshold {alert.Threshold:G3}). {alert.Message}\n");
        }

        if (alerts.Count > maxLines)
        {
            text.Append(CultureInfo.InvariantCulture, $"- … and {alerts.Count - maxLines} more alerts at this step.\n");
        }

        return text.ToString();
    }
}
