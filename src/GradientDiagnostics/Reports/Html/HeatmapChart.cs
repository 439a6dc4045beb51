using System.Globalization;
using System.Text;
using static GradientDiagnostics.Svg;

namespace GradientDiagnostics;

/// <summary>The layers × steps heatmap: one row per layer (input at the top), one column per group of exported steps,
/// each cell coloured by log₁₀ of the layer's mean |g| (the geometric mean over the column's exported steps); NaN/Inf
/// cells red, all-zero cells grey. The strips and marks of the time axis are <see cref="HeatmapTimeAxis"/>'s.</summary>
internal static class HeatmapChart
{
    public const int MapLeft = 150;
    public const int MapWidth = Width - MapLeft - Right;
    public const string NonFiniteCellClass = "nf";
    public const string ZeroCellClass = "zero";

    // 200 layers at 2 px a row still fit one screen; a 3-layer net gets rows of 16 px, not a 400-px band.
    private const double MaxMapHeight = 400;
    private const double MaxRowHeight = 16;
    private const double MinRowHeight = 1.5;

    public static void Append(StringBuilder html, GradientReportSnapshot run)
    {
        html.Append("<h2>Layers over time</h2>\n");
        LayerHeatmapSnapshot map = run.Heatmap;
        IReadOnlyList<LayerDescriptor> layers = run.Layers;
        if (map.Columns.Count == 0 || layers.Count == 0)
        {
            html.Append("<p class=\"note\">No step with per-layer statistics was recorded.</p>\n");
            return;
        }

        (int low, int high) = Decades(map);
        html.Append("<p class=\"note\">log₁₀ mean |g| of each layer's parameter gradients (rows, input at the top) at the exported steps (columns");
        html.Append(map.ExportedStepsPerColumn > 1 ? $", each the geometric mean of {F(map.ExportedStepsPerColumn)} exported steps"
            : ", one per exported step");
        html.Append("). Red cells: NaN/Inf in the layer's gradient; grey: an all-zero gradient. Above the map: the steps where clipping acted (darker: more " +
            "of them) and the loss scale (marked where it changed); below it: alerts (orange warning, red critical).</p>\n");

        double rowHeight = Math.Clamp(MaxMapHeight / layers.Count, MinRowHeight, MaxRowHeight);
        double columnWidth = (double)MapWidth / map.Columns.Count;
        double top = HeatmapTimeAxis.MapTop;
        double bottom = top + (rowHeight * layers.Count);
        int height = (int)Math.Ceiling(bottom) + 96;
        StartSvg(html, "heatmap", height);
        HeatmapTimeAxis.AppendStrips(html, map, columnWidth);
        html.Append("<g id=\"heatmap-cells\" shape-rendering=\"crispEdges\">\n");
        for (int c = 0; c < map.Columns.Count; c++)
        {
            HeatmapColumn column = map.Columns[c];
            string steps = column.ExportedSteps == 1
                ? $"step {F(column.LastExportedStep ?? column.LastStep)}"
                : $"steps {F(column.FirstExportedStep ?? column.FirstStep)}–{F(column.LastExportedStep ?? column.LastStep)} ({F(column.ExportedSteps)} " +
                    "exported)";
            double x = MapLeft + (c * columnWidth);
            for (int l = 0; l < layers.Count; l++)
            {
                AppendCell(html, map.Cells[c][l], x, top + (l * rowHeight), columnWidth, rowHeight, low, high, $"{layers[l].Name}, {steps}");
            }
        }

        html.Append("</g>\n");
        html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{MapLeft}\" y=\"{top:F1}\" width=\"{MapWidth}\" height=\"{bottom - top:F1}\" fill=\"none\" ")
            .Append(CultureInfo.InvariantCulture, $"stroke=\"#666\"/>\n");
        int labelStride = Math.Max(1, (int)Math.Ceiling(12 / rowHeight));
        for (int l = 0; l < layers.Count; l += labelStride)
        {
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{MapLeft - 6}\" y=\"{top + ((l + 0.5) * rowHeight) + 4:F1}\" ")
                .Append(CultureInfo.InvariantCulture, $"text-anchor=\"end\">{Encode(Shorten(layers[l].Name))}</text>\n");
        }

        HeatmapTimeAxis.AppendAlertsAndTicks(html, map, columnWidth, bottom);
        double next = HeatmapColors.AppendLegendBar(html, low, high, MapLeft, height - 24);
        AppendSwatches(html, next, height - 24);
        html.Append("</svg>\n");
    }

    private static void AppendCell(StringBuilder html, HeatmapCell cell, double x, double y, double width, double height, int low, int high, string where)
    {
        string fill, title, cssClass = string.Empty;
        if (cell.NonFiniteCount > 0)
        {
            (fill, cssClass) = (NonFiniteColor, NonFiniteCellClass);
            title = cell.SampleCount == 1 ? "NaN/Inf in the gradient" : $"NaN/Inf at {F(cell.NonFiniteCount)} of {F(cell.SampleCount)} exported steps";
        }
        else if (cell.FiniteCount > 0)
        {
            fill = HeatmapColors.Color(cell.MeanLog, low, high);
            title = cell.SampleCount == 1
                ? $"mean |g| = {G(Math.Pow(10, cell.MeanLog))}"
                : $"mean |g| = {G(Math.Pow(10, cell.MeanLog))} (geometric mean; {G(Math.Pow(10, cell.MinLog))} to {G(Math.Pow(10, cell.MaxLog))})";
        }
        else
        {
            (fill, cssClass, title) = (HeatmapColors.ZeroColor, ZeroCellClass, "all-zero gradient");
        }

        if (cell.ZeroCount > 0 && cell.SampleCount > cell.ZeroCount)
        {
            title += $"; all zero at {F(cell.ZeroCount)} exported steps";
        }

        string classAttribute = cssClass.Length > 0 ? $" class=\"{cssClass}\"" : string.Empty;
        html.Append(CultureInfo.InvariantCulture, $"<rect{classAttribute} x=\"{x:F1}\" y=\"{y:F1}\" width=\"{width:F1}\" height=\"{height:F1}\" ")
            .Append(CultureInfo.InvariantCulture, $"fill=\"{fill}\"><title>{Encode(where)}: {Encode(title)}</title></rect>\n");
    }

    private static void AppendSwatches(StringBuilder html, double x, double y)
    {
        foreach ((string color, string label) in new[] { (NonFiniteColor, "NaN / Inf"), (HeatmapColors.ZeroColor, "all zero") })
        {
            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:F0}\" y=\"{y - 9:F0}\" width=\"12\" height=\"10\" fill=\"{color}\"/><text ")
                .Append(CultureInfo.InvariantCulture, $"x=\"{x + 16:F0}\" y=\"{y:F0}\">{Encode(label)}</text>\n");
            x += 40 + (label.Length * 6.5);
        }
    }

    /// <summary>The whole decades spanning every finite cell (1e-8..1 when there is none).</summary>
    private static (int Low, int High) Decades(LayerHeatmapSnapshot map)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (HeatmapCell cell in map.Cells.SelectMany(c => c).Where(c => c.FiniteCount > 0))
        {
            (min, max) = (Math.Min(min, cell.MeanLog), Math.Max(max, cell.MeanLog));
        }

        if (double.IsPositiveInfinity(min))
        {
            return (-8, 0);
        }

        int low = (int)Math.Floor(min), high = (int)Math.Ceiling(max);
        return (low, high == low ? low + 1 : high);
    }
}
