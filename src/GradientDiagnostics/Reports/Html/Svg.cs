using System.Globalization;
using System.Net;
using System.Text;

namespace GradientDiagnostics;

/// <summary>The report's shared SVG vocabulary: the page geometry and palette every chart uses, the axes, bars and
/// legends they draw, and the invariant-culture formatting of every number on the page.</summary>
internal static class Svg
{
    public const int Width = 1100;
    public const int Left = 80;
    public const int Right = 20;
    public const int PlotWidth = Width - Left - Right;
    public const int PlotTop = 20;
    public const int PlotHeight = 300;
    public const string MaxColor = "#9ecae1";
    public const string MeanColor = "#08519c";
    public const string NonFiniteColor = "#d62728";
    public const string FitColor = "#ff7f0e";

    public static void StartSvg(StringBuilder html, string id, int height) =>
        html.Append(CultureInfo.InvariantCulture, $"<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 ")
            .Append(CultureInfo.InvariantCulture, $"{Width} {height}\" role=\"img\">\n");

    public static void AppendLogAxis(StringBuilder html, LogScale y, string label)
    {
        foreach (int exponent in y.TickExponents())
        {
            double py = y.Y(Math.Pow(10, exponent));
            html.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{py:F1}\" y2=\"{py:F1}\"/><text ")
                .Append(CultureInfo.InvariantCulture, $"x=\"{Left - 6}\" y=\"{py + 4:F1}\" text-anchor=\"end\">1e{exponent}</text>\n");
        }

        html.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" x2=\"{Left}\" y1=\"{PlotTop}\" y2=\"{PlotTop + PlotHeight}\"/><line ")
            .Append(CultureInfo.InvariantCulture, $"class=\"axis\" x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{PlotTop + PlotHeight}\" ")
            .Append(CultureInfo.InvariantCulture, $"y2=\"{PlotTop + PlotHeight}\"/>\n");
        html.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(16,{PlotTop + (PlotHeight / 2)}) rotate(-90)\" ")
            .Append(CultureInfo.InvariantCulture, $"text-anchor=\"middle\">{Encode(label)} (log scale)</text>\n");
    }

    public static void AppendXTicks(StringBuilder html, long from, long to, Func<double, double> x, string label)
    {
        const int Ticks = 10;
        long stride = Math.Max(1, (long)Math.Ceiling((to - from) / (double)Ticks));
        for (long v = from; v <= to; v += stride)
        {
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{x(v):F1}\" y=\"{PlotTop + PlotHeight + 16}\" text-anchor=\"middle\">{F(v)}</text>\n");
        }

        html.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + (PlotWidth / 2)}\" y=\"{PlotTop + PlotHeight + 34}\" ")
            .Append(CultureInfo.InvariantCulture, $"text-anchor=\"middle\">{Encode(label)}</text>\n");
    }

    public static void AppendBar(StringBuilder html, double x, double width, double value, LogScale y, double bottom, string color, string title)
    {
        if (!(value > 0))
        {
            return;
        }

        double top = y.Y(value);
        html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:F1}\" y=\"{top:F1}\" width=\"{Math.Max(width, 1):F1}\" ")
            .Append(CultureInfo.InvariantCulture, $"height=\"{Math.Max(bottom - top, 1):F1}\" fill=\"{color}\"><title>{Encode(title)}</title></rect>\n");
    }

    public static void AppendLegend(StringBuilder html, (string Color, string Label)[] entries, int y)
    {
        double x = Left;
        foreach ((string color, string label) in entries)
        {
            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:F0}\" y=\"{y - 9}\" width=\"12\" height=\"10\" fill=\"{color}\"/><text x=\"{x + 16:F0}\" ")
                .Append(CultureInfo.InvariantCulture, $"y=\"{y}\">{Encode(label)}</text>\n");
            x += 40 + (label.Length * 6.5);
        }
    }

    public static string Shorten(string name) => name.Length <= 18 ? name : string.Concat("…", name.AsSpan(name.Length - 17));

    public static string Encode(string text) => WebUtility.HtmlEncode(text);

    public static string F(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string G(double value) => MessageNumber.Format(value);
}
