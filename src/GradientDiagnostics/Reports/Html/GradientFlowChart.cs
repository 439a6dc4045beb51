using System.Globalization;
using System.Text;
using static GradientDiagnostics.Svg;

namespace GradientDiagnostics;

/// <summary>The gradient-flow chart: mean and max |g| of each layer at the latest exported step, one pair of bars per
/// layer on a log scale, non-finite layers marked.</summary>
internal static class GradientFlowChart
{
    public static void Append(StringBuilder html, GradientReportSnapshot run)
    {
        html.Append("<h2>Gradient flow</h2>\n");
        GradientStepResult? step = run.LatestLayers;
        if (step is null)
        {
            html.Append("<p class=\"note\">No step with per-layer statistics was recorded.</p>\n");
            return;
        }

        html.Append("<p class=\"note\">Mean |g| (dark) and max |g| (light) of each layer's parameter gradients at step ").Append(F(step.Step))
            .Append(", input on the left, loss on the right, log scale. Layers near the input with bars decades below the rest vanish; NaN/Inf layers are " +
                "marked in red.</p>\n");
        IReadOnlyList<LayerGradientStatistics> layers = step.Layers;
        int height = PlotHeight + 130;
        var y = LogScale.Covering(layers.SelectMany(l => new[] { l.MeanMagnitude, l.MaxMagnitude }), PlotTop, PlotHeight);
        StartSvg(html, "gradient-flow", height);
        AppendLogAxis(html, y, "|g|");
        double slot = (double)PlotWidth / layers.Count;
        double bottom = PlotTop + PlotHeight;
        int labelStride = Math.Max(1, (int)Math.Ceiling(layers.Count / 40.0));
        for (int i = 0; i < layers.Count; i++)
        {
            LayerGradientStatistics layer = layers[i];
            double x = Left + (i * slot);
            if (!layer.Gradient.IsFinite)
            {
                html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x + (slot * 0.1):F1}\" y=\"{PlotTop}\" width=\"{slot * 0.8:F1}\" ")
                    .Append(CultureInfo.InvariantCulture, $"height=\"{PlotHeight}\" fill=\"{NonFiniteColor}\" opacity=\"0.35\"><title>{Encode(layer.Name)}: ")
                    .Append(CultureInfo.InvariantCulture, $"{F(layer.Gradient.NonFiniteCount)} NaN/Inf elements</title></rect>\n");
            }
            else
            {
                AppendBar(html, x + (slot * 0.1), slot * 0.8, layer.MaxMagnitude, y, bottom, MaxColor, $"{layer.Name}: max |g| = {G(layer.MaxMagnitude)}");
                AppendBar(html, x + (slot * 0.3), slot * 0.4, layer.MeanMagnitude, y, bottom, MeanColor, $"{layer.Name}: mean |g| = {G(layer.MeanMagnitude)}");
            }

            if (i % labelStride == 0)
            {
                double cx = x + (slot / 2);
                html.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate({cx:F1},{bottom + 10}) ")
                    .Append(CultureInfo.InvariantCulture, $"rotate(45)\">{Encode(Shorten(layer.Name))}</text>\n");
            }
        }

        AppendLegend(html, [(MaxColor, "max |g|"), (MeanColor, "mean |g|"), (NonFiniteColor, "NaN / Inf")], height - 14);
        html.Append("</svg>\n");
    }
}
