namespace GradientDiagnostics;

/// <summary>The limits of the 16-bit formats the precision figures are measured against.</summary>
internal static class SixteenBitFormats
{
    /// <summary>float16's largest finite value, (2 − 2⁻¹⁰)·2¹⁵.</summary>
    public const double Float16Max = 65504;

    /// <summary>float16's smallest normal value, 2⁻¹⁴: below it a value is subnormal (fewer significant bits) or 0.</summary>
    public const double Float16MinNormal = 6.103515625e-05;

    /// <summary>bfloat16's largest finite value, (2 − 2⁻⁷)·2¹²⁷.</summary>
    public const double BFloat16Max = 3.3895313892515355e38;

    /// <summary>Whether the format is one of the 16-bit ones.</summary>
    public static bool IsSixteenBit(this NumericFormat format) => format is NumericFormat.Float16 or NumericFormat.BFloat16;

    /// <summary>The format's largest finite value; NaN for a format that is not 16-bit.</summary>
    public static double MaxValue(this NumericFormat format) => format switch
    {
        NumericFormat.Float16 => Float16Max,
        NumericFormat.BFloat16 => BFloat16Max,
        _ => double.NaN,
    };
}
