using System.Globalization;
using System.Text;
using static GradientDiagnostics.Svg;

namespace GradientDiagnostics;

/// <summary>The heatmap's time axis: above the map, a strip of the steps where clipping acted and a strip of the loss
/// scale with its changes marked; below it, the alert marks and the step ticks. Each mark covers the step range of its
/// column, every step of the run included (not only the exported ones).</summary>
internal static class HeatmapTimeAxis
{
    public const string ClipColor = "#252525";
    public const string LossScaleColor = "#6a51a3";
    private const int StripTop = PlotTop;
    private const int StripHeight = 10;
    private const int ScaleTop = StripTop + StripHeight + 4;

    /// <summary>The y of the map's first row, below the two strips.</summary>
    public const int MapTop = ScaleTop + StripHeight + 6;

    public static void AppendStrips(StringBuilder html, LayerHeatmapSnapshot map, double columnWidth)
    {
        int left = HeatmapChart.MapLeft;
        html.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{StripTop + 9}\" text-anchor=\"end\">clipping acted</text><text ")
            .Append(CultureInfo.InvariantCulture, $"x=\"{left - 6}\" y=\"{ScaleTop + 9}\" text-anchor=\"end\">loss scale</text>\n");
        html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{StripTop}\" width=\"{HeatmapChart.MapWidth}\" height=\"{StripHeight}\" ")
            .Append(CultureInfo.InvariantCulture, $"fill=\"none\" stroke=\"#ccc\"/><rect x=\"{left}\" y=\"{ScaleTop}\" width=\"{HeatmapChart.MapWidth}\" ")
            .Append(CultureInfo.InvariantCulture, $"height=\"{StripHeight}\" fill=\"none\" stroke=\"#ccc\"/>\n");
        double maxScaleLog = map.Columns.Max(c => Math.Log2(Math.Max(c.MaxLossScale, 1)));
        if (!map.Columns.Any(c => c.ClippedSteps > 0))
        {
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + 6}\" y=\"{StripTop + 9}\" fill=\"#888\">never</text>\n");
        }

        if (map.Columns.All(c => c.MinLossScale == 1 && c.MaxLossScale == 1))
        {
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + 6}\" y=\"{ScaleTop + 9}\" fill=\"#888\">1 throughout (no loss scaling)</text>\n");
        }

        for (int c = 0; c < map.Columns.Count; c++)
        {
            HeatmapColumn column = map.Columns[c];
            double x = left + (c * columnWidth);
            string steps = $"steps {F(column.FirstStep)}–{F(column.LastStep)}";
            if (column.ClippedSteps > 0)
            {
                // Any clipping shows (at least 25% ink); a column clipped at every step is black.
                double opacity = 0.25 + (0.75 * column.ClippedSteps / column.Steps);
                html.Append(CultureInfo.InvariantCulture, $"<rect class=\"clip\" x=\"{x:F1}\" y=\"{StripTop}\" width=\"{columnWidth:F1}\" ")
                    .Append(CultureInfo.InvariantCulture, $"height=\"{StripHeight}\" fill=\"{ClipColor}\" opacity=\"{opacity:F2}\"><title>{steps}: clipping ")
                    .Append(CultureInfo.InvariantCulture, $"acted at {F(column.ClippedSteps)} of {F(column.Steps)} steps</title></rect>\n");
            }

            if (maxScaleLog > 0 && column.MaxLossScale > 1)
            {
                // Shade by log2 of the column's smallest scale against the run's largest: a scale cut shows as a lighter run.
                double opacity = Math.Clamp(Math.Log2(Math.Max(column.MinLossScale, 1)) / maxScaleLog, 0.1, 1);
                html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:F1}\" y=\"{ScaleTop}\" width=\"{columnWidth:F1}\" height=\"{StripHeight}\" ")
                    .Append(CultureInfo.InvariantCulture, $"fill=\"{LossScaleColor}\" opacity=\"{opacity:F2}\"><title>{steps}: loss scale ")
                    .Append(CultureInfo.InvariantCulture,
                    $"{G(column.MinLossScale)}{(column.MaxLossScale > column.MinLossScale ? $" to {G(column.MaxLossScale)}" : string.Empty)}</title></rect>\n");
            }

            if (column.LossScaleChanges > 0)
            {
                double cx = x + (columnWidth / 2);
                html.Append(CultureInfo.InvariantCulture, $"<path class=\"scale-change\" d=\"M{cx - 4:F1},{ScaleTop - 3} L{cx + 4:F1},{ScaleTop - 3} ")
                    .Append(CultureInfo.InvariantCulture, $"L{cx:F1},{ScaleTop + StripHeight} Z\" fill=\"{FitColor}\" stroke=\"#222\" ")
                    .Append(CultureInfo.InvariantCulture, $"stroke-width=\"0.5\"><title>{steps}: the loss scale changed {F(column.LossScaleChanges)} times ")
                    .Append(CultureInfo.InvariantCulture, $"(now {G(column.MinLossScale)} to {G(column.MaxLossScale)})</title></path>\n");
            }
        }
    }

    public static void AppendAlertsAndTicks(StringBuilder html, LayerHeatmapSnapshot map, double columnWidth, double bottom)
    {
        int left = HeatmapChart.MapLeft;
        double radius = Math.Clamp(columnWidth / 2, 2, 4);
        for (int c = 0; c < map.Columns.Count; c++)
        {
            HeatmapColumn column = map.Columns[c];
            if (column.AlertCount == 0)
            {
                continue;
            }

            string color = column.CriticalAlertCount > 0 ? NonFiniteColor : FitColor;
            html.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{left + ((c + 0.5) * columnWidth):F1}\" cy=\"{bottom + 8:F1}\" r=\"{radius:F1}\" ")
                .Append(CultureInfo.InvariantCulture, $"fill=\"{color}\"><title>steps {F(column.FirstStep)}–{F(column.LastStep)}: {F(column.AlertCount)} ")
                .Append(CultureInfo.InvariantCulture, $"alerts ({F(column.CriticalAlertCount)} critical)</title></circle>\n");
        }

        const int Ticks = 10;
        int stride = Math.Max(1, (int)Math.Ceiling(map.Columns.Count / (double)Ticks));
        for (int c = 0; c < map.Columns.Count; c += stride)
        {
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + ((c + 0.5) * columnWidth):F1}\" y=\"{bottom + 28:F1}\" ")
                .Append(CultureInfo.InvariantCulture, $"text-anchor=\"middle\">{F(map.Columns[c].LastExportedStep ?? map.Columns[c].LastStep)}</text>\n");
        }

        string unit = map.ExportedStepsPerColumn > 1 ? $"each column {F(map.ExportedStepsPerColumn)} exported steps" : "one column per exported step";
        html.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + (HeatmapChart.MapWidth / 2)}\" y=\"{bottom + 46:F1}\" ")
            .Append(CultureInfo.InvariantCulture, $"text-anchor=\"middle\">{Encode($"step (labelled at the column's last exported step; {unit})")}</text>\n");
    }
}
