using System.Globalization;

namespace GradientDiagnostics;

/// <summary>Range checks whose messages name the option and the allowed range. Inside <see cref="ValidateAll"/> a
/// failed check is collected instead of thrown, so one exception names every invalid option.</summary>
internal static class OptionGuard
{
    [ThreadStatic]
    private static List<ArgumentOutOfRangeException>? t_found;

    /// <summary>Runs <paramref name="validate"/>, collecting every failed check, then throws one
    /// <see cref="ArgumentOutOfRangeException"/>: the check's own when one failed; when several did, one whose
    /// <see cref="ArgumentException.ParamName"/> lists their paths and whose message has one line per option.</summary>
    public static void ValidateAll(Action validate)
    {
        List<ArgumentOutOfRangeException>? outer = t_found;
        var found = new List<ArgumentOutOfRangeException>();
        t_found = found;
        try
        {
            validate();
        }
        finally
        {
            t_found = outer;
        }

        if (found.Count == 1)
        {
            throw found[0];
        }

        if (found.Count > 1)
        {
            string lines = string.Join(Environment.NewLine, found.Select(f => $"- {f.ParamName}: {Reason(f)}"));
            throw new ArgumentOutOfRangeException(string.Join(", ", found.Select(f => f.ParamName)),
                $"{found.Count} options are out of range:{Environment.NewLine}{lines}");
        }
    }

    public static void InRange(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            Fail(name, value, string.Create(CultureInfo.InvariantCulture,
                $"{name} must be in [{min}, {max}]; it was {value}."));
        }
    }

    /// <summary>Requires a finite value strictly above zero.</summary>
    public static void Positive(double value, string name)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            Fail(name, value, string.Create(CultureInfo.InvariantCulture,
                $"{name} must be a finite number greater than 0; it was {value}."));
        }
    }

    /// <summary>Requires a finite value in the open interval (min, max).</summary>
    public static void InOpenRange(double value, double min, double max, string name)
    {
        if (!double.IsFinite(value) || value <= min || value >= max)
        {
            Fail(name, value, string.Create(CultureInfo.InvariantCulture,
                $"{name} must be a finite number in ({min}, {max}); it was {value}."));
        }
    }

    /// <summary>Requires a finite value in the closed interval [min, max].</summary>
    public static void InClosedRange(double value, double min, double max, string name)
    {
        if (!double.IsFinite(value) || value < min || value > max)
        {
            Fail(name, value, string.Create(CultureInfo.InvariantCulture,
                $"{name} must be a finite number in [{min}, {max}]; it was {value}."));
        }
    }

    private static void Fail(string name, object value, string message)
    {
        var exception = new ArgumentOutOfRangeException(name, value, message);
        if (t_found is List<ArgumentOutOfRangeException> found)
        {
            found.Add(exception);
            return;
        }

        throw exception;
    }

    // The message without the "(Parameter '…')" and "Actual value was …" lines the exception appends.
    private static string Reason(ArgumentOutOfRangeException exception) =>
        exception.Message.Split(Environment.NewLine)[0].Replace($" (Parameter '{exception.ParamName}')", string.Empty, StringComparison.Ordinal);
}
