using System.Globalization;
using System.Text;
using static GradientDiagnostics.Svg;

namespace GradientDiagnostics;

/// <summary>The heatmap's colour scale: viridis (perceptually uniform, readable in grey and by most colour-blind
/// readers, and free of red, which marks NaN/Inf cells) over whole decades of mean |g|, and its legend bar.</summary>
internal static class HeatmapColors
{
    public const string ZeroColor = "#d9d9d9";

    // viridis sampled at 9 evenly spaced points (matplotlib's published colour map values).
    private static readonly (byte R, byte G, byte B)[] Stops =
    [
        (0x44, 0x01, 0x54), (0x47, 0x2d, 0x7b), (0x3b, 0x52, 0x8b), (0x2c, 0x72, 0x8e), (0x21, 0x91, 0x8c),
        (0x28, 0xae, 0x80), (0x5e, 0xc9, 0x62), (0xad, 0xdc, 0x30), (0xfd, 0xe7, 0x25),
    ];

    /// <summary>The colour of <paramref name="log10"/> on the decade range [low, high].</summary>
    public static string Color(double log10, int low, int high)
    {
        double t = Math.Clamp((log10 - low) / (high - low), 0, 1) * (Stops.Length - 1);
        int i = Math.Min((int)t, Stops.Length - 2);
        double f = t - i;
        (byte r0, byte g0, byte b0) = Stops[i];
        (byte r1, byte g1, byte b1) = Stops[i + 1];
        return string.Create(CultureInfo.InvariantCulture, $"#{Lerp(r0, r1, f):x2}{Lerp(g0, g1, f):x2}{Lerp(b0, b1, f):x2}");
    }

    /// <summary>A horizontal bar of the scale from 1e<paramref name="low"/> to 1e<paramref name="high"/>, with its
    /// decades labelled, at (x, y); returns the x where the next legend entry may start.</summary>
    public static double AppendLegendBar(StringBuilder html, int low, int high, double x, double y)
    {
        const double BarWidth = 300;
        html.Append("<defs><linearGradient id=\"heatmap-scale\">");
        for (int i = 0; i < Stops.Length; i++)
        {
            (byte r, byte g, byte b) = Stops[i];
            html.Append(CultureInfo.InvariantCulture, $"<stop offset=\"{i / (double)(Stops.Length - 1):F3}\" stop-color=\"#{r:x2}{g:x2}{b:x2}\"/>");
        }

        html.Append("</linearGradient></defs>\n");
        html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:F0}\" y=\"{y - 9:F0}\" width=\"{BarWidth:F0}\" height=\"10\" ")
            .Append(CultureInfo.InvariantCulture, $"fill=\"url(#heatmap-scale)\"><title>mean |g| from 1e{low} to 1e{high}</title></rect>\n");
        // Labels at least 50 px apart: "1e-12" is about 30 px wide.
        int stride = Math.Max(1, (int)Math.Ceiling((high - low) * 50 / BarWidth));
        for (int e = low; e <= high; e += stride)
        {
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + ((e - low) / (double)(high - low) * BarWidth):F1}\" y=\"{y + 12:F0}\" ")
                .Append(CultureInfo.InvariantCulture, $"text-anchor=\"middle\">1e{e}</text>\n");
        }

        html.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + BarWidth + 8:F0}\" y=\"{y:F0}\">{Encode("mean |g|")}</text>\n");
        return x + BarWidth + 80;
    }

    private static int Lerp(byte a, byte b, double f) => (int)Math.Round(a + ((b - a) * f));
}
