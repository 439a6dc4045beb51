namespace GradientDiagnostics.Tests.Clipping;

/// <summary>How often a policy goes back to the gradients: every extra measurement is a device reduction and, on a GPU,
/// a device-to-host transfer, so the cheap policies must decide from the statistics already measured.</summary>
public sealed class ClippingCostTests
{
    private sealed class CountingTarget(ArrayClippingTarget inner) : IGradientClippingTarget
    {
        public int Measures { get; private set; }

        public int PowerSumCalls { get; private set; }

        public int Writes { get; private set; }

        public void Scale(ReadOnlySpan<double> layerCoefficients)
        {
            Writes++;
            inner.Scale(layerCoefficients);
        }

        public void Clamp(double value)
        {
            Writes++;
            inner.Clamp(value);
        }

        public void ClipUnitWise(double clipping, double epsilon, ReadOnlySpan<bool> excludedLayers)
        {
            Writes++;
            inner.ClipUnitWise(clipping, epsilon, excludedLayers);
        }

        public TensorStatistics[] Measure()
        {
            Measures++;
            return inner.Measure();
        }

        public double[] PowerSums(double p)
        {
            PowerSumCalls++;
            return inner.PowerSums(p);
        }
    }

    private static CountingTarget Run(GradientClipping policy)
    {
        var inner = new ArrayClippingTarget([ClippingHarness.Layer(3, 4), [new ArrayClippingTarget.Parameter([.3f, .4f, 12f, 0f], [3, 4, 1, 1], Units: 2)]]);
        var counting = new CountingTarget(inner);
        var analyzer = new GradientAnalyzer(["a", "b"], new GradientMonitorOptions { Clipping = policy });
        analyzer.Analyze(inner.Observe(), 1.0, counting);
        return counting;
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(1.0)]
    [InlineData(double.PositiveInfinity)]
    public void ByGlobalNorm_1_2_inf_decides_from_the_measured_statistics_with_no_extra_pass(double normType)
    {
        CountingTarget target = Run(GradientClipping.ByGlobalNorm(1, normType));

        Assert.Equal((0, 0, 1), (target.Measures, target.PowerSumCalls, target.Writes));
    }

    [Fact]
    public void Chains_of_scalings_need_no_extra_pass()
    {
        CountingTarget target = Run(GradientClipping.SkipNonFinite().Then(GradientClipping.ByLayerNorm(5)).Then(GradientClipping.AutoClip()).Then(GradientClipping.ZScore()).Then(GradientClipping.ByGlobalNorm(1)));

        Assert.Equal((0, 0), (target.Measures, target.PowerSumCalls));
    }

    [Fact]
    public void ByGlobalNorm_with_another_p_takes_one_reduction()
    {
        CountingTarget target = Run(GradientClipping.ByGlobalNorm(1, 3));

        Assert.Equal((0, 1), (target.Measures, target.PowerSumCalls));
    }

    [Fact]
    public void Agc_then_global_norm_measures_once_after_agc()
    {
        CountingTarget target = Run(GradientClipping.Adaptive().Then(GradientClipping.ByGlobalNorm(0.01)));

        Assert.Equal((1, 2), (target.Measures, target.Writes));
    }

    [Fact]
    public void A_coefficient_of_one_writes_nothing()
    {
        CountingTarget target = Run(GradientClipping.ByGlobalNorm(1000));

        Assert.Equal(0, target.Writes);
    }

    [Fact]
    public void PersistentClipping_options_are_validated_at_construction_naming_the_option()
    {
        var options = new GradientMonitorOptions { Clipping = GradientClipping.ByGlobalNorm(1) };
        options.PersistentClipping.Persistence = 65;

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new GradientAnalyzer(["a"], options));

        Assert.Equal("PersistentClipping.Persistence", ex.ParamName);
    }
}
