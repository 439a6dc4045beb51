namespace GradientDiagnostics.Tests.Statistics;

/// <summary>The 16-bit read widens exactly and counts on the values as stored: compared with a scalar reference over
/// every float16 bit pattern and over bfloat16 patterns of every exponent.</summary>
public sealed class SixteenBitStatisticsTests
{
    [Fact]
    public void Every_float16_pattern_is_widened_and_counted_exactly()
    {
        Half[] all = [.. Enumerable.Range(0, 1 << 16).Select(i => BitConverter.UInt16BitsToHalf((ushort)i))];
        double[] reference = [.. all.Select(h => (double)h)];

        SixteenBitStatistics s = SixteenBitStatistics.Compute(all);

        TensorStatistics expected = TensorStatistics.Compute(reference);
        Assert.Equal(NumericFormat.Float16, s.Format);
        Assert.Equal((expected.ElementCount, expected.ZeroCount, expected.NaNCount, expected.InfinityCount, expected.MaxFiniteMagnitude),
            (s.Values.ElementCount, s.Values.ZeroCount, s.Values.NaNCount, s.Values.InfinityCount, s.Values.MaxFiniteMagnitude));
        Assert.Equal(reference.Count(x => Math.Abs(x) < Math.Pow(2, -14)), s.ZeroOrSubnormalCount); // 2 zeros + 2 × 1023 subnormals
        Assert.Equal(2 + 2 * 1023, s.ZeroOrSubnormalCount);
        Assert.Equal(0, s.OverflowHeadroomBits); // it holds ±Inf
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(10_000)]
    public void Finite_float16_sums_match_double_sums_and_the_headroom_is_log2_of_the_max_over_65504(int length)
    {
        var random = new Random(length);
        Half[] values = [.. Enumerable.Range(0, length).Select(_ => (Half)(random.NextDouble() * 2000 - 1000) * (Half)(random.Next(3) == 0 ? 1e-6 : 1))];
        double[] reference = [.. values.Select(h => (double)h)];

        SixteenBitStatistics s = SixteenBitStatistics.Compute(values);

        double sumOfSquares = reference.Sum(x => x * x), max = reference.Max(Math.Abs);
        Assert.Equal(sumOfSquares, s.Values.SumOfSquares, sumOfSquares * 1e-5);
        Assert.Equal(reference.Sum(Math.Abs), s.Values.SumOfMagnitudes, reference.Sum(Math.Abs) * 1e-5);
        Assert.Equal(Math.Log2(65504 / max), s.OverflowHeadroomBits, 12);
        Assert.Equal(reference.Count(x => Math.Abs(x) < Math.Pow(2, -14)) / (double)length, s.UnderflowFraction, 15);
    }

    [Fact]
    public void Bfloat16_patterns_are_the_upper_half_of_a_float32_and_zero_exponents_are_counted()
    {
        // Every exponent, both signs, a few mantissas: includes ±0, subnormals, ±Inf and NaN.
        ushort[] bits = [.. Enumerable.Range(0, 256).SelectMany(e => new[] { 0, 1, 0x45, 0x7F }.SelectMany(m => new[] { (ushort)((e << 7) | m), (ushort)(0x8000 | (e << 7) | m) }))];
        double[] reference = [.. bits.Select(b => (double)BitConverter.UInt32BitsToSingle((uint)b << 16))];

        SixteenBitStatistics s = SixteenBitStatistics.ComputeBFloat16(bits);

        TensorStatistics expected = TensorStatistics.Compute(reference);
        Assert.Equal((expected.ElementCount, expected.ZeroCount, expected.NaNCount, expected.InfinityCount, expected.MaxFiniteMagnitude),
            (s.Values.ElementCount, s.Values.ZeroCount, s.Values.NaNCount, s.Values.InfinityCount, s.Values.MaxFiniteMagnitude));
        Assert.Equal(8, s.ZeroOrSubnormalCount); // exponent 0: 4 mantissas × 2 signs
        Assert.Equal(reference.Count(x => Math.Abs(x) < Math.Pow(2, -126)), s.ZeroOrSubnormalCount);
    }

    [Fact]
    public void Combining_chunks_equals_one_read_and_an_all_zero_gradient_has_infinite_headroom()
    {
        Half[] values = [.. Enumerable.Range(0, 9000).Select(i => (Half)(i % 7 == 0 ? 0 : i * 1e-3))];

        SixteenBitStatistics whole = SixteenBitStatistics.Compute(values);
        SixteenBitStatistics parts = SixteenBitStatistics.Combine(SixteenBitStatistics.Compute(values.AsSpan(0, 5000)), SixteenBitStatistics.Compute(values.AsSpan(5000)));

        Assert.Equal((whole.ZeroOrSubnormalCount, whole.Values.ElementCount, whole.Values.MaxFiniteMagnitude), (parts.ZeroOrSubnormalCount, parts.Values.ElementCount, parts.Values.MaxFiniteMagnitude));
        Assert.Equal(whole.Values.SumOfSquares, parts.Values.SumOfSquares, whole.Values.SumOfSquares * 1e-6);
        Assert.Equal(double.PositiveInfinity, SixteenBitStatistics.Compute(new Half[10]).OverflowHeadroomBits);
    }
}
