using System.Globalization;

namespace GradientDiagnostics;

/// <summary>Range checks whose messages name the option and the allowed range.</summary>
internal static class OptionGuard
{
    public static void InRange(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be in [{min}, {max}]; it was {value}."));
        }
    }

    /// <summary>Requires a finite value strictly above zero.</summary>
    public static void Positive(double value, string name)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be a finite number greater than 0; it was {value}."));
        }
    }

    /// <summary>Requires a finite value in the open interval (min, max).</summary>
    public static void InOpenRange(double value, double min, double max, string name)
    {
        if (!double.IsFinite(value) || value <= min || value >= max)
        {
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be a finite number in ({min}, {max}); it was {value}."));
        }
    }

    /// <summary>Requires a finite value in the closed interval [min, max].</summary>
    public static void InClosedRange(double value, double min, double max, string name)
    {
        if (!double.IsFinite(value) || value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be a finite number in [{min}, {max}]; it was {value}."));
        }
    }
}
