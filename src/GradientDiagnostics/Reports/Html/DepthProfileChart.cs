using System.Globalization;
using System.Text;
using static GradientDiagnostics.Svg;

namespace GradientDiagnostics;

/// <summary>The depth profile: ‖∂L/∂y‖ against depth at the latest probed step, with the fitted per-layer gain.</summary>
internal static class DepthProfileChart
{
    public static void Append(StringBuilder html, GradientReportSnapshot run)
    {
        html.Append("<h2>Depth profile</h2>\n");
        GradientStepResult? step = run.LatestProbed;
        if (step is null)
        {
            html.Append("<p class=\"note\">No output-gradient norms ‖∂L/∂y‖ were recorded (the layers were not probed), so there is no depth profile.</p>\n");
            return;
        }

        // Rank is the position among the probed layers: the gain is fitted per probed layer-to-layer step, which is one
        // layer only when every layer is probed (a LayerOutputFilter may probe fewer).
        List<(int Depth, int Rank, double Norm, string Name)> points = [.. step.Layers
            .Where(l => l.OutputGradientNorm is not null)
            .Select((l, rank) => (l.Index, rank, l.OutputGradientNorm!.Value, l.Name))
            .Where(p => double.IsFinite(p.Value) && p.Value > 0)];
        int probed = step.ProbedLayerCount;
        double? gain = step.DepthGain;
        html.Append("<p class=\"note\">‖∂L/∂y‖, the back-propagated signal at each layer's output, at step ").Append(F(step.Step))
            .Append(", against depth (log scale)");
        if (gain is double g)
        {
            html.Append(". Fitted gain per layer g = <b>").Append(G(g)).Append("</b> (").Append(g < 1 ? "below 1: the signal shrinks towards the input"
                : "at or above 1: the signal does not shrink towards the input")
                .Append(CultureInfo.InvariantCulture, $"; across {probed} probed layers that is a factor {G(step.DepthGainOverDepth ?? double.NaN)}");
            html.Append(')');
        }

        html.Append(".</p>\n");
        int height = PlotHeight + 70;
        var y = LogScale.Covering(points.Select(p => p.Norm), PlotTop, PlotHeight);
        StartSvg(html, "depth-profile", height);
        AppendLogAxis(html, y, "‖∂L/∂y‖");
        int layers = Math.Max(2, step.Layers.Count);
        double X(double depth) => Left + 10 + (depth / (layers - 1) * (PlotWidth - 20));
        if (gain is double fitted && fitted > 0 && points.Count >= 2)
        {
            // n_k ≈ C·g^(P−1−k) over the probed ranks k (DepthProfile): anchor C at the geometric mean of the measured
            // points, and draw the fit through the probed layers' positions.
            double logGain = Math.Log10(fitted);
            double anchor = points.Average(p => Math.Log10(p.Norm) - ((probed - 1 - p.Rank) * logGain));
            double Fit(int rank) => Math.Pow(10, anchor + ((probed - 1 - rank) * logGain));
            string path = string.Join(" L", points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.Depth):F1},{y.Y(Fit(p.Rank)):F1}")));
            html.Append(CultureInfo.InvariantCulture, $"<path d=\"M{path}\" stroke=\"{FitColor}\" stroke-width=\"2\" stroke-dasharray=\"6 4\" ")
                .Append(CultureInfo.InvariantCulture, $"fill=\"none\"><title>fitted gain {G(fitted)} per probed layer</title></path>\n");
        }

        foreach ((int depth, _, double norm, string name) in points)
        {
            html.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(depth):F1}\" cy=\"{y.Y(norm):F1}\" r=\"4\" fill=\"{MeanColor}\"><title>{Encode(name)} ")
                .Append(CultureInfo.InvariantCulture, $"(depth {depth}): {G(norm)}</title></circle>\n");
        }

        AppendXTicks(html, 0, layers - 1, X, "depth (layer index)");
        AppendLegend(html, [(MeanColor, "‖∂L/∂y‖ per layer"), (FitColor, "fitted gain")], height - 14);
        html.Append("</svg>\n");
    }
}
