using System.Text;
using static GradientDiagnostics.Svg;

namespace GradientDiagnostics;

/// <summary>The alerts table: the kept alerts with their diagnosis, and the module that first produced a NaN /
/// ±Infinity in the forward pass when it was traced (<see cref="GradientAlert.Origin"/>; empty otherwise).</summary>
internal static class AlertTable
{
    public static void Append(StringBuilder html, GradientReportSnapshot run)
    {
        html.Append("<h2>Alerts</h2>\n");
        if (run.Alerts.Count == 0)
        {
            html.Append("<p class=\"note\">No alerts.</p>\n");
            return;
        }

        if (run.Alerts.Count < run.AlertCount)
        {
            html.Append("<p class=\"note\">Showing the first and the latest ").Append(F(run.Alerts.Count)).Append(" of ").Append(F(run.AlertCount))
                .Append(" alerts.</p>\n");
        }

        html.Append("<table id=\"alerts\"><thead><tr><th>step</th><th>severity</th><th>kind</th><th>layer</th><th>origin</th><th>metric</th>" +
            "<th>value</th><th>threshold</th><th>diagnosis</th></tr></thead><tbody>\n");
        foreach (GradientAlert a in run.Alerts)
        {
            html.Append("<tr class=\"").Append(a.Severity.ToString()).Append("\"><td>").Append(F(a.Step)).Append("</td><td>").Append(a.Severity.ToString())
                .Append("</td><td>").Append(a.Kind.ToString()).Append("</td><td>").Append(Encode(a.Layer)).Append("</td><td>")
                    .Append(Encode(a.Origin ?? string.Empty))
                .Append("</td><td>").Append(Encode(a.Metric))
                .Append("</td><td>").Append(G(a.Value)).Append("</td><td>").Append(G(a.Threshold)).Append("</td><td>").Append(Encode(a.Message))
                    .Append("</td></tr>\n");
        }

        html.Append("</tbody></table>\n");
    }
}
