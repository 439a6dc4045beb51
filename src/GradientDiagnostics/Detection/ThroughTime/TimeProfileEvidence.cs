namespace GradientDiagnostics;

/// <summary>The sentences both through-time detectors write about a recurrent layer: its name, its gain and the
/// evidence its weights give (the largest singular value of W_hh, the forget or update gate's timescale).</summary>
internal static class TimeProfileEvidence
{
    /// <summary>The layer as the message names it: "'lstm'", or "'lstm' (stacked layer 1, reverse)".</summary>
    public static string Name(RecurrentTimeProfile p)
    {
        string part = (p.StackedLayer, p.Reverse) switch
        {
            (0, false) => "",
            (0, true) => " (reverse direction)",
            (int k, false) => $" (stacked layer {k})",
            (int k, true) => $" (stacked layer {k}, reverse direction)",
        };
        return $"'{p.Layer}'{part}";
    }

    /// <summary>The alert's layer: the profile's <see cref="RecurrentTimeProfile.Name"/>, as telemetry names it.</summary>
    public static string AlertLayer(RecurrentTimeProfile p) => p.Name;

    /// <summary>The gain sentence: γ and γᵀ.</summary>
    public static string Gain(RecurrentTimeProfile p) =>
        $"its gain per step is {MessageNumber.Format(p.GainPerStep)}, so over its {p.SequenceLength} steps the signal changes by about "
        + $"{MessageNumber.Format(Math.Pow(p.GainPerStep, p.SequenceLength))} (γ^T; {p.Unit}, measured on {p.SequenceCount} "
        + $"sequence{(p.SequenceCount == 1 ? "" : "s")}{(p.Replayed ? " by a step-by-step re-run of the fused module" : "")})";

    /// <summary>The weights' evidence: the spectral norm and the forget timescale, when read.</summary>
    public static IReadOnlyList<string> Weights(RecurrentTimeProfile p)
    {
        List<string> sentences = [];
        if (p.RecurrentSpectralNorm is double norm)
        {
            string block = p.SpectralNormGate is string gate ? $" (gate block {gate})" : "";
            sentences.Add($"the largest singular value of its recurrent weight W_hh{block} is {MessageNumber.Format(norm)}");
        }

        if (p.ForgetTimescale is double timescale)
        {
            string gate = p.Unit == "GRU" ? "update" : "forget";
            sentences.Add($"its {gate} gate keeps the state for about {MessageNumber.Format(timescale)} steps (−1/ln σ(b), b = b_ih + b_hh)");
        }

        return sentences;
    }
}
