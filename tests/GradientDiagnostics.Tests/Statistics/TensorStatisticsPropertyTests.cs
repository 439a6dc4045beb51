using System.Numerics.Tensors;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace GradientDiagnostics.Tests.Statistics;

public sealed class TensorStatisticsPropertyTests
{
    private const double RelativeTolerance = 1e-5;

    // Mixes the values that break naive kernels: NaN, ±Inf, ±0, subnormals, float.MaxValue-sized finite values, and
    // ordinary values across the whole exponent range.
    private static Gen<float> Element() => Gen.Frequency(
        (1, Gen.Elements(float.NaN, float.PositiveInfinity, float.NegativeInfinity)),
        (2, Gen.Elements(0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -3e-42f, 1.1754942e-38f)),
        (2, Gen.Elements(float.MaxValue, -float.MaxValue, 3e38f, -1e30f, 1e30f, 1.8e19f)),
        (10, Gen.Choose(-1_000_000, 1_000_000).SelectMany(m => Gen.Choose(-40, 38), (m, e) => (float)(m * 1e-6 * Math.Pow(10, e)))));

    private static Arbitrary<float[]> Tensors() => Element().ArrayOf().ToArbitrary();

    private static Arbitrary<float[]> FiniteTensors() =>
        Element().Where(float.IsFinite).ArrayOf().ToArbitrary();

    [Property(MaxTest = 300)]
    public Property Span_statistics_match_a_naive_double_reference() => Prop.ForAll(Tensors(), values =>
    {
        TensorStatistics s = TensorStatistics.Compute(values);
        Reference r = Reference.Of(values);
        return s.ElementCount == values.Length && s.NaNCount == r.NaN && s.InfinityCount == r.Inf && s.ZeroCount == r.Zeros &&
            Close(s.SumOfSquares, r.SumOfSquares) && Close(s.SumOfMagnitudes, r.SumOfMagnitudes) &&
            s.MaxFiniteMagnitude == r.MaxFinite && s.IsFinite == (r.NaN + r.Inf == 0) &&
            SameNorm(s.L2Norm, r.NaN > 0 ? double.NaN : r.Inf > 0 ? double.PositiveInfinity : Math.Sqrt(r.SumOfSquares)) &&
            SameNorm(s.RootMeanSquare, values.Length == 0 ? 0 : r.NaN > 0 ? double.NaN : r.Inf > 0 ? double.PositiveInfinity : Math.Sqrt(r.SumOfSquares / values.Length)) &&
            SameNorm(s.MeanMagnitude, values.Length == 0 ? 0 : r.NaN > 0 ? double.NaN : r.Inf > 0 ? double.PositiveInfinity : r.SumOfMagnitudes / values.Length) &&
            s.ZeroFraction == (values.Length == 0 ? 0 : (double)r.Zeros / values.Length);
    });

    [Property(MaxTest = 200)]
    public Property Finite_huge_values_never_overflow_the_norm() => Prop.ForAll(FiniteTensors(), values =>
    {
        TensorStatistics s = TensorStatistics.Compute(values);
        return s.IsFinite && double.IsFinite(s.L2Norm) && Close(s.L2Norm, Math.Sqrt(Reference.Of(values).SumOfSquares));
    });

    [Property(MaxTest = 200)]
    public Property Strided_tensor_spans_of_random_shapes_match_the_reference() => Prop.ForAll(
        Tensors(), Gen.Choose(1, 7).ToArbitrary(), (values, columns) =>
        {
            int rows = values.Length / columns;
            if (rows == 0)
            {
                return true;
            }

            float[] data = values[..(rows * columns)];
            ReadOnlyTensorSpan<float> full = new ReadOnlyTensorSpan<float>(data, [rows, columns]);
            int keep = Math.Max(1, columns - 1);
            ReadOnlyTensorSpan<float> slice = full[.., 0..keep];
            float[] expected = [.. Enumerable.Range(0, rows).SelectMany(r => data.Skip(r * columns).Take(keep))];
            return TensorStatistics.Compute(slice) == TensorStatistics.Compute(expected) &&
                TensorStatistics.Compute(full) == TensorStatistics.Compute(data);
        });

    [Property(MaxTest = 200)]
    public Property Combine_equals_computing_the_concatenation() => Prop.ForAll(Tensors(), Tensors(), (a, b) =>
    {
        TensorStatistics combined = TensorStatistics.Combine(TensorStatistics.Compute(a), TensorStatistics.Compute(b));
        TensorStatistics whole = TensorStatistics.Compute([.. a, .. b]);
        return combined.ElementCount == whole.ElementCount && combined.NaNCount == whole.NaNCount && combined.InfinityCount == whole.InfinityCount &&
            combined.ZeroCount == whole.ZeroCount && combined.MaxFiniteMagnitude == whole.MaxFiniteMagnitude &&
            Close(combined.SumOfSquares, whole.SumOfSquares) && Close(combined.SumOfMagnitudes, whole.SumOfMagnitudes);
    });

    private static bool Close(double actual, double expected) =>
        actual == expected || Math.Abs(actual - expected) <= RelativeTolerance * Math.Max(Math.Abs(expected), double.Epsilon);

    private static bool SameNorm(double actual, double expected) =>
        double.IsNaN(expected) ? double.IsNaN(actual) : double.IsInfinity(expected) ? actual == expected : Close(actual, expected);

    private readonly record struct Reference(long NaN, long Inf, long Zeros, double SumOfSquares, double SumOfMagnitudes, double MaxFinite)
    {
        public static Reference Of(float[] values)
        {
            long nan = 0, inf = 0, zeros = 0;
            double squares = 0, magnitudes = 0, max = 0;
            foreach (float v in values)
            {
                double x = v;
                if (double.IsNaN(x))
                {
                    nan++;
                }
                else if (double.IsInfinity(x))
                {
                    inf++;
                }
                else
                {
                    squares += x * x;
                    magnitudes += Math.Abs(x);
                    max = Math.Max(max, Math.Abs(x));
                    zeros += x == 0 ? 1 : 0;
                }
            }

            return new Reference(nan, inf, zeros, squares, magnitudes, max);
        }
    }
}
