using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GradientDiagnostics;

/// <summary>
/// The statistics pass over a chunk of widened 16-bit values: squares and magnitudes accumulated in double vectors, the
/// max and the zero count in float. A 16-bit value has at most 11 significant bits, so float's block sums (the float32
/// kernel's 1e-5 promise) would throw away precision the values have; double keeps every sum within ~1e-15·n of exact.
/// A NaN or ±Infinity element makes a sum non-finite and sends the chunk down the exact scalar path, which counts them.
/// </summary>
internal static class SixteenBitKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TensorStatistics Compute(ReadOnlySpan<float> values)
    {
        if (!Vector256.IsHardwareAccelerated || values.Length < Vector256<float>.Count)
        {
            return TensorStatisticsKernel.ComputeScalar(values);
        }

        Vector256<double> squaresLow = Vector256<double>.Zero, squaresHigh = Vector256<double>.Zero;
        Vector256<double> magnitudesLow = Vector256<double>.Zero, magnitudesHigh = Vector256<double>.Zero;
        Vector256<float> max = Vector256<float>.Zero;
        long zeros = 0;
        ReadOnlySpan<Vector256<float>> vectors = MemoryMarshal.Cast<float, Vector256<float>>(values);
        foreach (Vector256<float> v in vectors)
        {
            Vector256<float> magnitude = Vector256.Abs(v);
            max = Vector256.Max(max, magnitude);
            zeros += BitOperations.PopCount(Vector256.Equals(v, Vector256<float>.Zero).ExtractMostSignificantBits());
            (Vector256<double> low, Vector256<double> high) = Vector256.Widen(magnitude);
            squaresLow += low * low;
            squaresHigh += high * high;
            magnitudesLow += low;
            magnitudesHigh += high;
        }

        double squares = Vector256.Sum(squaresLow + squaresHigh), magnitudes = Vector256.Sum(magnitudesLow + magnitudesHigh);
        float largest = 0;
        for (int k = 0; k < Vector256<float>.Count; k++)
        {
            largest = Math.Max(largest, max.GetElement(k));
        }

        for (int i = vectors.Length * Vector256<float>.Count; i < values.Length; i++)
        {
            double x = Math.Abs(values[i]);
            (squares, magnitudes, largest, zeros) = (squares + (x * x), magnitudes + x, Math.Max(largest, (float)x), zeros + (x == 0 ? 1 : 0));
        }

        if (!double.IsFinite(squares) || !double.IsFinite(magnitudes))
        {
            return TensorStatisticsKernel.ComputeScalar(values);
        }

        return new TensorStatistics
        {
            ElementCount = values.Length,
            SumOfSquares = squares,
            SumOfMagnitudes = magnitudes,
            MaxFiniteMagnitude = largest,
            ZeroCount = zeros,
        };
    }
}
