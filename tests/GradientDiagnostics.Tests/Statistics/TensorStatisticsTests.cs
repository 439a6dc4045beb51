using System.Numerics.Tensors;

namespace GradientDiagnostics.Tests.Statistics;

public sealed class TensorStatisticsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(1000)]
    public void Statistics_equal_a_double_precision_reference_for_every_tail_length(int length)
    {
        var random = new Random(length);
        float[] values = [.. Enumerable.Range(0, length).Select(i => i % 5 == 0 ? 0f : (float)(random.NextDouble() - 0.5) * 10)];

        TensorStatistics s = TensorStatistics.Compute(values);

        Assert.Equal(length, s.ElementCount);
        // Sums are within 1e-5 relative of the double reference (float blocks flushed to double; see FloatBlockIterations).
        double l2 = Math.Sqrt(values.Sum(v => (double)v * v));
        Assert.Equal(l2, s.L2Norm, l2 * 1e-5);
        Assert.Equal(values.Length == 0 ? 0 : values.Max(v => Math.Abs((double)v)), s.MaxMagnitude);
        double mean = values.Length == 0 ? 0 : values.Average(v => Math.Abs((double)v));
        Assert.Equal(mean, s.MeanMagnitude, mean * 1e-5);
        Assert.Equal(values.Count(v => v == 0), s.ZeroCount);
        Assert.True(s.IsFinite);
    }

    [Fact]
    public void Finite_tensors_take_the_vectorized_path_and_non_finite_ones_fall_back()
    {
        Assert.True(TensorStatisticsKernel.TryComputeFiniteVectorized([.. Enumerable.Range(0, 64).Select(i => (float)i)], out TensorStatistics s));
        Assert.Equal(64, s.ElementCount);
        Assert.False(TensorStatisticsKernel.TryComputeFiniteVectorized([.. Enumerable.Range(0, 64).Select(i => i == 9 ? float.NaN : i)], out _));
        Assert.False(TensorStatisticsKernel.TryComputeFiniteVectorized([.. Enumerable.Range(0, 67).Select(i => i == 66 ? float.PositiveInfinity : i)], out _));
    }

    [Theory]
    [InlineData(256, 15)]
    [InlineData(256, 1_000)]
    [InlineData(256, 70_001)]
    [InlineData(512, 15)]
    [InlineData(512, 1_000)]
    [InlineData(512, 70_001)]
    public void Both_vector_widths_match_the_double_reference(int width, int length)
    {
        // Each width is checked on every machine: where AVX-512 is missing, 512-bit lanes are emulated (slow, still exact),
        // so the path the kernel takes on other hardware is tested here too.
        var random = new Random(length);
        float[] values = [.. Enumerable.Range(0, length).Select(i => i % 3 == 0 ? (i % 2 == 0 ? 0f : -0f) : (float)(random.NextDouble() - 0.5))];

        TensorStatistics s;
        bool vectorized = width == 256
            ? TensorStatisticsKernel.TryComputeFiniteVectorized<FloatLanes256, System.Runtime.Intrinsics.Vector256<float>>(values, out s)
            : TensorStatisticsKernel.TryComputeFiniteVectorized<FloatLanes512, System.Runtime.Intrinsics.Vector512<float>>(values, out s);

        Assert.True(vectorized);
        double squares = values.Sum(v => (double)v * v), magnitudes = values.Sum(v => Math.Abs((double)v));
        Assert.Equal(squares, s.SumOfSquares, squares * 1e-5);
        Assert.Equal(magnitudes, s.SumOfMagnitudes, magnitudes * 1e-5);
        Assert.Equal(values.Max(v => Math.Abs((double)v)), s.MaxFiniteMagnitude);
        Assert.Equal(values.Count(v => v == 0), s.ZeroCount);
        values[length / 2] = float.NaN;
        Assert.False(width == 256
            ? TensorStatisticsKernel.TryComputeFiniteVectorized<FloatLanes256, System.Runtime.Intrinsics.Vector256<float>>(values, out _)
            : TensorStatisticsKernel.TryComputeFiniteVectorized<FloatLanes512, System.Runtime.Intrinsics.Vector512<float>>(values, out _));
    }

    [Fact]
    public void Huge_finite_values_do_not_overflow_the_norm()
    {
        float[] values = Enumerable.Repeat(1e30f, 1024).ToArray();

        TensorStatistics s = TensorStatistics.Compute(values);

        Assert.Equal(1e30 * Math.Sqrt(1024), s.L2Norm, 1e30 * 1e-5);
        Assert.Equal(1e30 * Math.Sqrt(1024), s.L2Norm, 1e30 * 1e-5);
        Assert.True(s.IsFinite);
    }

    [Fact]
    public void Nan_and_infinities_are_counted_separately_and_never_hidden()
    {
        float[] values = [1, float.NaN, 2, float.PositiveInfinity, float.NegativeInfinity, 0, 3, 4, 5, float.NaN];

        TensorStatistics s = TensorStatistics.Compute(values);

        Assert.Equal(2, s.NaNCount);
        Assert.Equal(2, s.InfinityCount);
        Assert.Equal(1, s.ZeroCount);
        Assert.Equal(1 + 4 + 9 + 16 + 25, s.SumOfSquares);
        Assert.Equal(5, s.MaxFiniteMagnitude);
        Assert.True(double.IsNaN(s.L2Norm));
        Assert.True(double.IsNaN(s.MaxMagnitude));
        Assert.False(s.IsFinite);
    }

    [Fact]
    public void Infinity_without_nan_gives_an_infinite_norm()
    {
        float[] values = [1, 2, 3, 4, 5, 6, 7, 8, float.NegativeInfinity];

        TensorStatistics s = TensorStatistics.Compute(values);

        Assert.Equal(double.PositiveInfinity, s.L2Norm);
        Assert.Equal(0, s.NaNCount);
    }

    [Fact]
    public void Combine_equals_computing_the_concatenation()
    {
        float[] a = [1, -2, 0, 4, 5, 6, 7, 8, 9], b = [float.NaN, 3, 0];

        TensorStatistics combined = TensorStatistics.Combine(TensorStatistics.Compute(a), TensorStatistics.Compute(b));

        Assert.Equal(TensorStatistics.Compute([.. a, .. b]), combined);
    }

    [Fact]
    public void Strided_tensor_span_is_measured_like_its_dense_copy()
    {
        float[] data = [.. Enumerable.Range(0, 24).Select(i => (float)i - 12)];
        var tensor = Tensor.Create(data, [4, 6]);
        ReadOnlyTensorSpan<float> columns = tensor.AsReadOnlyTensorSpan()[.., 1..4];
        float[] dense = new float[columns.FlattenedLength];
        columns.FlattenTo(dense);

        Assert.False(columns.IsDense);
        Assert.Equal(TensorStatistics.Compute(dense), TensorStatistics.Compute(columns));
        Assert.Equal(TensorStatistics.Compute(data), TensorStatistics.Compute(tensor.AsReadOnlyTensorSpan()));
    }

    [Fact]
    public void Long_tensors_of_equal_values_stay_within_the_accuracy_bound()
    {
        // 4 M equal squares: one float accumulator per lane would drift by ~1e-2 relative; per-block flushing keeps it exact enough.
        float[] values = Enumerable.Repeat(1.1f, 4_000_000).ToArray();

        TensorStatistics s = TensorStatistics.Compute(values);

        double square = (double)1.1f * 1.1f;
        Assert.Equal(square * values.Length, s.SumOfSquares, square * values.Length * 1e-5);
        Assert.Equal((double)1.1f * values.Length, s.SumOfMagnitudes, 1.1 * values.Length * 1e-5);
    }

    [Fact]
    public void Vanishing_gradients_far_below_float_square_range_keep_their_norm()
    {
        // Squares of 1e-25 underflow float (min subnormal ≈ 1.4e-45), so such blocks must be summed in double.
        float[] values = Enumerable.Repeat(1e-25f, 10_000).ToArray();

        TensorStatistics s = TensorStatistics.Compute(values);

        double expected = 1e-25f * Math.Sqrt(values.Length);
        Assert.Equal(expected, s.L2Norm, expected * 1e-5);
        Assert.Equal(0, s.ZeroCount);
    }

    [Fact]
    public void Blocks_of_huge_tiny_and_ordinary_values_each_match_the_double_reference()
    {
        // Ordinary blocks, then a block too large for float squares, a block too tiny for them, then ordinary again: the
        // kernel switches between float and double blocks and must neither double count nor drop any block.
        var random = new Random(7);
        float[] values = new float[40_000];
        for (int i = 0; i < values.Length; i++)
        {
            double scale = i is >= 9_000 and < 13_000 ? 1e25 : i is >= 20_000 and < 30_000 ? 1e-30 : 1e-3;
            values[i] = i % 11 == 0 ? 0f : (float)((random.NextDouble() - 0.5) * scale);
        }

        TensorStatistics s = TensorStatistics.Compute(values);

        double squares = values.Sum(v => (double)v * v), magnitudes = values.Sum(v => Math.Abs((double)v));
        Assert.Equal(squares, s.SumOfSquares, squares * 1e-5);
        Assert.Equal(magnitudes, s.SumOfMagnitudes, magnitudes * 1e-5);
        Assert.Equal(values.Max(v => Math.Abs((double)v)), s.MaxFiniteMagnitude);
        Assert.Equal(values.Count(v => v == 0), s.ZeroCount);
        double tinySquares = values[20_000..30_000].Sum(v => (double)v * v);
        TensorStatistics tiny = TensorStatistics.Compute(values.AsSpan(20_000, 10_000));
        Assert.Equal(tinySquares, tiny.SumOfSquares, tinySquares * 1e-5);
    }

    [Fact]
    public void A_nan_deep_inside_a_long_tensor_is_counted()
    {
        float[] values = Enumerable.Repeat(0.5f, 100_000).ToArray();
        values[77_777] = float.NaN;
        values[88_888] = float.NegativeInfinity;

        TensorStatistics s = TensorStatistics.Compute(values);

        Assert.Equal(1, s.NaNCount);
        Assert.Equal(1, s.InfinityCount);
        Assert.Equal(0.25 * (values.Length - 2), s.SumOfSquares, 1e-6);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(1_000)]
    [InlineData(100_003)]
    public void Double_statistics_take_the_vectorized_pass_and_equal_the_scalar_one(int length)
    {
        var random = new Random(length);
        double[] values = [.. Enumerable.Range(0, length).Select(i => i % 5 == 0 ? 0 : (random.NextDouble() - 0.5) * Math.Pow(10, i % 7 - 3))];
        TensorStatistics scalar = TensorStatisticsKernel.ComputeScalar(values);
        Assert.True(TensorStatisticsKernel.TryComputeFiniteVectorized(values, out TensorStatistics s));
        Assert.Equal(scalar, TensorStatistics.Compute(values) with { SumOfSquares = scalar.SumOfSquares, SumOfMagnitudes = scalar.SumOfMagnitudes });
        Assert.Equal(scalar.SumOfSquares, s.SumOfSquares, 1e-12 * scalar.SumOfSquares);
        Assert.Equal(scalar.SumOfMagnitudes, s.SumOfMagnitudes, 1e-12 * scalar.SumOfMagnitudes);
        Assert.Equal((scalar.MaxFiniteMagnitude, scalar.ZeroCount, length), (s.MaxFiniteMagnitude, s.ZeroCount, (int)s.ElementCount));
    }

    [Fact]
    public void Double_statistics_with_nan_or_infinity_fall_back_to_the_exact_counts()
    {
        double[] values = [.. Enumerable.Range(0, 1_000).Select(i => i * 0.5)];
        values[500] = double.NaN;
        values[700] = double.NegativeInfinity;
        values[999] = double.PositiveInfinity;
        Assert.False(TensorStatisticsKernel.TryComputeFiniteVectorized(values, out _));
        TensorStatistics s = TensorStatistics.Compute(values);
        Assert.Equal((1L, 2L, 1L), (s.NaNCount, s.InfinityCount, s.ZeroCount));
        Assert.Equal(998 * 0.5, s.MaxFiniteMagnitude);
    }

    [Fact]
    public void The_read_ahead_hint_changes_no_result()
    {
        // Tensors of 64 KB and more take the prefetch hint; it only moves cache lines, so every figure is the same bit
        // for bit with it off (which other tests running meanwhile cannot notice either).
        var random = new Random(3);
        float[] floats = [.. Enumerable.Range(0, 100_003).Select(i => i % 4 == 0 ? 0f : (float)(random.NextDouble() - 0.5))];
        double[] doubles = [.. floats.Select(f => (double)f * 1e-3)];
        Assert.True(ReadAhead.For((long)floats.Length * sizeof(float)) || !System.Runtime.Intrinsics.X86.Sse.IsSupported);
        (TensorStatistics, TensorStatistics) on = (TensorStatistics.Compute(floats), TensorStatistics.Compute(doubles));
        bool before = ReadAhead.Enabled;
        try
        {
            ReadAhead.Enabled = false;
            Assert.Equal(on, (TensorStatistics.Compute(floats), TensorStatistics.Compute(doubles)));
        }
        finally
        {
            ReadAhead.Enabled = before;
        }
    }
}
