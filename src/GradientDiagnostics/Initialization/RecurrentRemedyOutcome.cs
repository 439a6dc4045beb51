using System.Globalization;

namespace GradientDiagnostics;

/// <summary>What an adapter's recurrent remedy reported, carried into <see cref="GradientFlowInitializationResult"/>.</summary>
/// <param name="GainBefore">The recurrent layers' per-step gain before the remedy.</param>
/// <param name="GainAfter">The same after.</param>
/// <param name="Layers">One line per recurrent layer.</param>
internal sealed record RecurrentRemedyOutcome(double? GainBefore, double? GainAfter, IReadOnlyList<string> Layers)
{
    /// <summary>A model without recurrent layers.</summary>
    public static RecurrentRemedyOutcome None { get; } = new(null, null, []);

    /// <summary>The sentence the result's message ends with; empty without recurrent layers.</summary>
    public string Describe()
    {
        if (Layers.Count == 0)
        {
            return string.Empty;
        }

        string gains = GainBefore is null && GainAfter is null
            ? "the gain per step through time could not be measured"
            : string.Create(CultureInfo.InvariantCulture, $"gain per step through time {Format(GainBefore)} -> {Format(GainAfter)}");
        return $" Recurrent layers ({gains}): {string.Join("; ", Layers)}.";
    }

    private static string Format(double? gain) => gain is double g ? g.ToString("F3", CultureInfo.InvariantCulture) : "unknown";
}
