namespace GradientDiagnostics;

/// <summary>Whether the kernel's float pass scales the magnitudes by a power of two (a block of tiny or huge values);
/// a type argument, so the JIT removes the multiply from the common, unscaled pass.</summary>
internal interface IBlockScaling
{
    static abstract bool Scales { get; }
}

/// <summary>The float pass over ordinary values: no multiply.</summary>
internal readonly struct Unscaled : IBlockScaling
{
    public static bool Scales => false;
}

/// <summary>The float pass over a block scaled by an exact power of two.</summary>
internal readonly struct Scaled : IBlockScaling
{
    public static bool Scales => true;
}
