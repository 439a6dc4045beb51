namespace GradientDiagnostics;

// The members are named as the frameworks' dtypes are (torch.float32, ScalarType.Float32), which CA1720 flags.
#pragma warning disable CA1720

/// <summary>The floating-point format a layer's parameters and gradients are stored in, as far as an adapter tells.</summary>
public enum NumericFormat
{
    /// <summary>Not told by the adapter (for example an analyzer driven from plain float arrays), or mixed.</summary>
    Unknown = 0,

    /// <summary>IEEE 754 binary32: 8 exponent bits, 24 significant bits.</summary>
    Float32 = 1,

    /// <summary>IEEE 754 binary64.</summary>
    Float64 = 2,

    /// <summary>IEEE 754 binary16 (<c>.half()</c>): 5 exponent bits, 11 significant bits; largest finite 65504, smallest
    /// normal 2⁻¹⁴, smallest subnormal 2⁻²⁴.</summary>
    Float16 = 3,

    /// <summary>bfloat16: float32's 8 exponent bits with 8 significant bits; largest finite ≈ 3.39e38, smallest normal
    /// 2⁻¹²⁶, one ulp of a weight w between 2⁻⁸·|w| and 2⁻⁷·|w|.</summary>
    BFloat16 = 4,
}
#pragma warning restore CA1720
