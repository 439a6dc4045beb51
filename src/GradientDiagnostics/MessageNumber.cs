using System.Globalization;

namespace GradientDiagnostics;

/// <summary>How every alert and log message writes a measured number: 3 significant digits, invariant culture, a
/// lower-case exponent (<c>1.41e-18</c>, <c>0.069</c>, <c>2.5e+03</c>). A reader compares orders of magnitude and the
/// first digits; the structured state (<see cref="GradientAlert.Value"/>, <see cref="GradientAlertCriterion"/>, the
/// log's fields) keeps full precision for anyone who needs more.</summary>
internal static class MessageNumber
{
    /// <summary>The value with 3 significant digits ("G3": scientific below 1e-5 and from 1e3 on, with trailing zeros
    /// dropped); NaN and ±Infinity as .NET writes them.</summary>
    public static string Format(double value) =>
        value.ToString("G3", CultureInfo.InvariantCulture).Replace('E', 'e');

    /// <summary>A fraction in [0, 1] as a whole percentage, "71%".</summary>
    public static string Percent(double fraction) =>
        (fraction * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
}
