using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GradientDiagnostics;

/// <summary>
/// The few vector operations the statistics kernel needs, over one hardware vector width. The kernel is written once,
/// generic over this interface; the JIT specializes it per width (the implementations are structs) and inlines every call.
/// </summary>
/// <typeparam name="TVector">The vector type, <see cref="Vector256{T}"/> or <see cref="Vector512{T}"/> of float.</typeparam>
internal interface IFloatLanes<TVector>
    where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    static abstract TVector Zero { get; }

    static abstract TVector Load(ref float source, int offset);

    static abstract TVector Abs(TVector x);

    static abstract TVector Add(TVector left, TVector right);

    /// <summary>Every lane times <paramref name="factor"/>.</summary>
    static abstract TVector Multiply(TVector x, float factor);

    /// <summary>a·a + accumulator, fused.</summary>
    static abstract TVector SquareAdd(TVector a, TVector accumulator);

    /// <summary>The larger lane of two non-NaN values (the platform's max; NaN handling is left to the sums).</summary>
    static abstract TVector Max(TVector left, TVector right);

    /// <summary>One bit per lane, set where the lane is ±0 (the low <see cref="Count"/> bits).</summary>
    static abstract ulong ZeroBits(TVector x);

    /// <summary>Whether every lane is finite.</summary>
    static abstract bool AllFinite(TVector x);

    /// <summary>The lanes' sum, each widened to double first (no float overflow in the horizontal add).</summary>
    static abstract double SumInDouble(TVector x);

    /// <summary>The largest lane, for non-negative lanes.</summary>
    static abstract float HorizontalMax(TVector x);
}

/// <summary>256-bit lanes (AVX2, Arm64 through emulation of two 128-bit halves).</summary>
internal readonly struct FloatLanes256 : IFloatLanes<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source, int offset) => Vector256.LoadUnsafe(ref source, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Abs(Vector256<float> x) => Vector256.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> x, float factor) => x * factor;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SquareAdd(Vector256<float> a, Vector256<float> accumulator) => Vector256.FusedMultiplyAdd(a, a, accumulator);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Vector256.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ZeroBits(Vector256<float> x) => Vector256.Equals(x, Vector256<float>.Zero).ExtractMostSignificantBits();

    // Compare the mask as integers: all-bits-set is a NaN pattern, and NaN != NaN as floats.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllFinite(Vector256<float> x) => Vector256.EqualsAll(Vector256.IsFinite(x).AsInt32(), Vector256<int>.AllBitsSet);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumInDouble(Vector256<float> x)
    {
        (Vector256<double> low, Vector256<double> high) = Vector256.Widen(x);
        return Vector256.Sum(low + high);
    }

    public static float HorizontalMax(Vector256<float> x)
    {
        Vector128<float> half = Vector128.MaxNative(x.GetLower(), x.GetUpper());
        float m = 0;
        for (int i = 0; i < Vector128<float>.Count; i++)
        {
            m = Math.Max(m, half.GetElement(i));
        }

        return m;
    }
}

/// <summary>512-bit lanes (AVX-512). Used only where <see cref="Vector512.IsHardwareAccelerated"/>: elsewhere Vector512 is
/// emulated and slower than 256-bit lanes.</summary>
internal readonly struct FloatLanes512 : IFloatLanes<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source, int offset) => Vector512.LoadUnsafe(ref source, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Abs(Vector512<float> x) => Vector512.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> x, float factor) => x * factor;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SquareAdd(Vector512<float> a, Vector512<float> accumulator) => Vector512.FusedMultiplyAdd(a, a, accumulator);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Vector512.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ZeroBits(Vector512<float> x) => Vector512.Equals(x, Vector512<float>.Zero).ExtractMostSignificantBits();

    // Compare the mask as integers: all-bits-set is a NaN pattern, and NaN != NaN as floats.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllFinite(Vector512<float> x) => Vector512.EqualsAll(Vector512.IsFinite(x).AsInt32(), Vector512<int>.AllBitsSet);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumInDouble(Vector512<float> x)
    {
        (Vector512<double> low, Vector512<double> high) = Vector512.Widen(x);
        return Vector512.Sum(low + high);
    }

    public static float HorizontalMax(Vector512<float> x) =>
        FloatLanes256.HorizontalMax(Vector256.MaxNative(x.GetLower(), x.GetUpper()));
}
