using System.Globalization;
using System.Text;
using static GradientDiagnostics.Svg;

namespace GradientDiagnostics;

/// <summary>Each recurrent layer's gradient through time: ‖∂L/∂h‖ against steps back from the end of the sequence at the
/// latest measured step (log scale), with the signal the per-step gains imply and the memory horizon; then the horizon
/// over training.</summary>
internal static class TimeProfileChart
{
    private const string HorizonColor = "#2ca02c";

    public static void Append(StringBuilder html, GradientReportSnapshot run)
    {
        if (run.TimeProfiles.Count == 0)
        {
            return; // no recurrent layer was measured: nothing to say about time
        }

        html.Append("<h2>Gradient flow through time</h2>\n");
        for (int i = 0; i < run.TimeProfiles.Count; i++)
        {
            TimeProfileSeries series = run.TimeProfiles[i];
            if (series.Latest is (long step, RecurrentTimeProfile profile))
            {
                AppendProfile(html, i, step, profile);
                AppendHorizons(html, i, series);
            }
        }
    }

    private static void AppendProfile(StringBuilder html, int index, long step, RecurrentTimeProfile profile)
    {
        int steps = profile.GradientNorms.Count;
        // Steps back along the recurrence: from t = T−1 towards 0, or from t = 0 towards T−1 for a reverse direction.
        double[] norms = [.. Enumerable.Range(0, steps).Select(k => profile.GradientNorms[profile.Reverse ? k : steps - 1 - k])];
        double[] signal = profile.SignalBack();
        double atLoss = norms.FirstOrDefault(n => n > 0);
        html.Append("<h3>").Append(Encode(profile.Name)).Append(" (").Append(Encode(profile.Unit)).Append(")</h3>\n")
            .Append("<p class=\"note\">‖∂L/∂h‖ at step ").Append(F(step)).Append(" against steps back from the end of its ")
            .Append(F(profile.SequenceLength)).Append("-step sequence (log scale). Gain per step γ = <b>").Append(G(profile.GainPerStep))
            .Append("</b>; ").Append(HorizonText(profile)).Append(Evidence(profile)).Append(".</p>\n");
        int height = PlotHeight + 70;
        var y = LogScale.Covering(norms.Concat(signal.Select(s => s * atLoss)), PlotTop, PlotHeight);
        StartSvg(html, $"time-profile-{index}", height);
        AppendLogAxis(html, y, "‖∂L/∂h‖");
        double X(double k) => Left + 10 + (k / Math.Max(1, steps - 1) * (PlotWidth - 20));
        if (signal.Length >= 2 && atLoss > 0)
        {
            string path = string.Join(" L", signal.Select((s, k) => (s, k)).Where(p => p.s > 0)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.k):F1},{y.Y(p.s * atLoss):F1}")));
            html.Append(CultureInfo.InvariantCulture, $"<path d=\"M{path}\" stroke=\"{FitColor}\" stroke-width=\"2\" stroke-dasharray=\"6 4\" fill=\"none\">")
                .Append("<title>signal implied by the per-step gains</title></path>\n");
        }

        for (int k = 0; k < steps; k++)
        {
            if (norms[k] > 0 && double.IsFinite(norms[k]))
            {
                html.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(k):F1}\" cy=\"{y.Y(norms[k]):F1}\" r=\"3\" fill=\"{MeanColor}\">")
                    .Append(CultureInfo.InvariantCulture, $"<title>{k} steps back: {G(norms[k])}</title></circle>\n");
            }
        }

        if (profile.MemoryHorizon is int horizon)
        {
            html.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(horizon):F1}\" x2=\"{X(horizon):F1}\" y1=\"{PlotTop}\" y2=\"{PlotTop + PlotHeight}\" ")
                .Append(CultureInfo.InvariantCulture, $"stroke=\"{HorizonColor}\" stroke-width=\"2\"><title>memory horizon: {horizon} steps</title></line>\n");
        }

        AppendXTicks(html, 0, Math.Max(1, steps - 1), X, "steps back from the last step");
        AppendLegend(html, [(MeanColor, "‖∂L/∂h‖"), (FitColor, "product of per-step gains"), (HorizonColor, "memory horizon")], height - 14);
        html.Append("</svg>\n");
    }

    private static void AppendHorizons(StringBuilder html, int index, TimeProfileSeries series)
    {
        IReadOnlyList<TimeProfilePoint> points = series.Points;
        int longest = Math.Max(1, points.Max(p => p.SequenceLength));
        long first = points[0].Step, last = Math.Max(points[^1].Step, first + 1);
        int height = (PlotHeight / 2) + 70;
        double X(double step) => Left + 10 + ((step - first) / (last - first) * (PlotWidth - 20));
        double Y(double horizon) => PlotTop + ((1 - (horizon / longest)) * (PlotHeight / 2));
        html.Append("<p class=\"note\">Memory horizon of ").Append(Encode(series.Name))
            .Append(" over training, in steps (hollow: the signal kept above the fraction over the whole sequence).</p>\n");
        StartSvg(html, $"memory-horizon-{index}", height);
        int bottom = PlotTop + (PlotHeight / 2);
        html.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" x2=\"{Left}\" y1=\"{PlotTop}\" y2=\"{bottom}\"/>")
            .Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{bottom}\" y2=\"{bottom}\"/>\n")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{Y(longest) + 4:F1}\" text-anchor=\"end\">{F(longest)}</text>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{Y(0) + 4:F1}\" text-anchor=\"end\">0</text>\n");
        foreach (TimeProfilePoint p in points)
        {
            double h = p.Horizon ?? p.SequenceLength;
            string fill = p.Horizon is null ? "none" : HorizonColor;
            string what = p.Horizon is int k ? $"{k} of {p.SequenceLength} steps" : $"the whole {p.SequenceLength} steps";
            html.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(p.Step):F1}\" cy=\"{Y(h):F1}\" r=\"3\" fill=\"{fill}\" stroke=\"{HorizonColor}\">")
                .Append(CultureInfo.InvariantCulture, $"<title>step {F(p.Step)}: {what}, γ = {G(p.GainPerStep)}</title></circle>\n");
        }

        html.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + (PlotWidth / 2)}\" y=\"{bottom + 34}\" text-anchor=\"middle\">")
            .Append(CultureInfo.InvariantCulture, $"training step ({F(first)} to {F(points[^1].Step)})</text>\n");
        html.Append("</svg>\n");
    }

    private static string HorizonText(RecurrentTimeProfile profile) => profile.MemoryHorizon is int horizon
        ? string.Create(CultureInfo.InvariantCulture,
            $"memory horizon <b>{horizon}</b> of {profile.SequenceLength} steps (the signal stays above {G(profile.HorizonFraction)} of its size at the loss)")
        : string.Create(CultureInfo.InvariantCulture,
            $"the signal stays above {G(profile.HorizonFraction)} of its size at the loss over all {profile.SequenceLength} steps");

    private static string Evidence(RecurrentTimeProfile profile) =>
        (profile.RecurrentSpectralNorm is double s
            ? $"; largest singular value of W_hh {G(s)}{(profile.SpectralNormGate is string gate ? $" (gate {Encode(gate)})" : string.Empty)}"
            : string.Empty)
        + (profile.ForgetTimescale is double tau ? $"; mean retention timescale {G(tau)} steps" : string.Empty);
}
