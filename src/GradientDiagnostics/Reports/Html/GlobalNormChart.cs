using System.Globalization;
using System.Text;
using static GradientDiagnostics.Svg;

namespace GradientDiagnostics;

/// <summary>The global norm over steps: the downsampled buckets (geometric mean line, min–max band), the clip
/// threshold, non-finite steps and alert steps.</summary>
internal static class GlobalNormChart
{
    public static void Append(StringBuilder html, GradientReportSnapshot run)
    {
        html.Append("<h2>Global gradient norm over steps</h2>\n");
        IReadOnlyList<NormBucket> buckets = run.GlobalNorms;
        if (buckets.Count == 0)
        {
            html.Append("<p class=\"note\">No steps were recorded.</p>\n");
            return;
        }

        long first = buckets[0].FirstStep, last = buckets[^1].LastStep;
        int width = buckets.Max(b => b.Count);
        html.Append("<p class=\"note\">L2 norm of all gradients before clipping, log scale");
        html.Append(width > 1 ? $"; each point merges {F(width)} steps (line: geometric mean, band: min to max)" : string.Empty);
        html.Append(run.ClipThreshold is double clip ? $"; dashed line: the clip threshold {G(clip)}" : "; clipping was off");
        html.Append("; markers: alerts (orange warning, red critical), red triangles: non-finite steps.</p>\n");
        int height = PlotHeight + 70;
        var y = LogScale.Covering(buckets.SelectMany(b => new[] { b.Min, b.Max }).Append(run.ClipThreshold ?? double.NaN), PlotTop, PlotHeight);
        StartSvg(html, "global-norm", height);
        AppendLogAxis(html, y, "‖g‖");
        double X(double step) => Left + 10 + (last == first ? PlotWidth / 2.0 : (step - first) / (last - first) * (PlotWidth - 20));
        double Mid(NormBucket b) => (b.FirstStep + b.LastStep) / 2.0;

        List<NormBucket> finite = [.. buckets.Where(b => b.FiniteCount > 0)];
        if (finite.Count > 0)
        {
            if (width > 1)
            {
                var band = new StringBuilder();
                band.Append(CultureInfo.InvariantCulture, $"M{X(Mid(finite[0])):F1},{y.Y(finite[0].Max):F1}");
                foreach (NormBucket b in finite.Skip(1))
                {
                    band.Append(CultureInfo.InvariantCulture, $" L{X(Mid(b)):F1},{y.Y(b.Max):F1}");
                }

                foreach (NormBucket b in Enumerable.Reverse(finite))
                {
                    band.Append(CultureInfo.InvariantCulture, $" L{X(Mid(b)):F1},{y.Y(b.Min):F1}");
                }

                html.Append("<path d=\"").Append(band).Append(" Z\" fill=\"").Append(MaxColor).Append("\" opacity=\"0.5\" stroke=\"none\"/>\n");
            }

            var line = new StringBuilder();
            for (int i = 0; i < finite.Count; i++)
            {
                line.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "M" : " L")}{X(Mid(finite[i])):F1},{y.Y(finite[i].GeometricMean):F1}");
            }

            html.Append("<path d=\"").Append(line).Append("\" stroke=\"").Append(MeanColor).Append("\" stroke-width=\"1.5\" fill=\"none\"/>\n");
            if (finite.Count == 1)
            {
                html.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(Mid(finite[0])):F1}\" cy=\"{y.Y(finite[0].GeometricMean):F1}\" r=\"3\" ")
                    .Append(CultureInfo.InvariantCulture, $"fill=\"{MeanColor}\"/>\n");
            }
        }

        if (run.ClipThreshold is double threshold)
        {
            html.Append(CultureInfo.InvariantCulture, $"<path d=\"M{Left},{y.Y(threshold):F1} H{Left + PlotWidth}\" stroke=\"{NonFiniteColor}\" ")
                .Append(CultureInfo.InvariantCulture, $"stroke-dasharray=\"6 4\" fill=\"none\"><title>clip threshold {G(threshold)}</title></path>\n");
        }

        foreach (NormBucket b in buckets.Where(b => b.NonFiniteCount > 0))
        {
            double x = X(Mid(b));
            html.Append(CultureInfo.InvariantCulture, $"<path d=\"M{x - 5:F1},{PlotTop + 10} L{x + 5:F1},{PlotTop + 10} L{x:F1},{PlotTop + 1} Z\" ")
                .Append(CultureInfo.InvariantCulture, $"fill=\"{NonFiniteColor}\"><title>{F(b.NonFiniteCount)} non-finite steps in ")
                .Append(CultureInfo.InvariantCulture, $"{F(b.FirstStep)}–{F(b.LastStep)}</title></path>\n");
        }

        foreach (IGrouping<long, GradientAlert> alerts in run.Alerts.GroupBy(a => a.Step))
        {
            GradientAlert worst = alerts.MaxBy(a => a.Severity)!;
            string color = worst.Severity == GradientAlertSeverity.Critical ? NonFiniteColor : FitColor;
            html.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(alerts.Key):F1}\" cy=\"{PlotTop + PlotHeight - 6}\" r=\"4\" ")
                .Append(CultureInfo.InvariantCulture, $"fill=\"{color}\"><title>step {F(alerts.Key)}: ")
                .Append(CultureInfo.InvariantCulture, $"{Encode(string.Join("; ", alerts.Select(a => $"{a.Kind} in {a.Layer}")))}</title></circle>\n");
        }

        AppendXTicks(html, first, last, X, "step");
        AppendLegend(html, [(MeanColor, "global norm"), (FitColor, "alert"), (NonFiniteColor, "critical alert / non-finite / clip threshold")], height - 14);
        html.Append("</svg>\n");
    }
}
