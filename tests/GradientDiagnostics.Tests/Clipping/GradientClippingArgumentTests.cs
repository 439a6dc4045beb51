namespace GradientDiagnostics.Tests.Clipping;

public sealed class GradientClippingArgumentTests
{
    public static TheoryData<string, Func<GradientClipping>> BadArguments => new()
    {
        { "maxNorm", () => GradientClipping.ByGlobalNorm(0) },
        { "maxNorm", () => GradientClipping.ByGlobalNorm(-1) },
        { "maxNorm", () => GradientClipping.ByGlobalNorm(double.NaN) },
        { "maxNorm", () => GradientClipping.ByGlobalNorm(double.PositiveInfinity) },
        { "normType", () => GradientClipping.ByGlobalNorm(1, 0) },
        { "normType", () => GradientClipping.ByGlobalNorm(1, double.NaN) },
        { "clipValue", () => GradientClipping.ByValue(0) },
        { "clipValue", () => GradientClipping.ByValue(double.NaN) },
        { "maxNorm", () => GradientClipping.ByLayerNorm(-2) },
        { "clipping", () => GradientClipping.Adaptive(0) },
        { "epsilon", () => GradientClipping.Adaptive(0.01, double.NaN) },
        { "percentile", () => GradientClipping.AutoClip(-0.1) },
        { "percentile", () => GradientClipping.AutoClip(100.1) },
        { "percentile", () => GradientClipping.AutoClip(double.NaN) },
        { "window", () => GradientClipping.AutoClip(10, 0) },
        { "alpha", () => GradientClipping.ZScore(alpha: 0) },
        { "alpha", () => GradientClipping.ZScore(alpha: 1) },
        { "alpha", () => GradientClipping.ZScore(alpha: double.NaN) },
        { "zThreshold", () => GradientClipping.ZScore(zThreshold: 0) },
        { "warmupSteps", () => GradientClipping.ZScore(warmupSteps: 0) },
        { "maxNorm", () => GradientClipping.ZScore(maxNorm: 0) },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void Bad_argument_throws_ArgumentOutOfRange_naming_the_parameter(string parameter, Func<GradientClipping> create)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(create);

        Assert.Equal(parameter, ex.ParamName);
    }

    [Fact]
    public void Boundary_arguments_are_accepted()
    {
        Assert.NotNull(GradientClipping.AutoClip(0));
        Assert.NotNull(GradientClipping.AutoClip(100, 1));
        Assert.NotNull(GradientClipping.ZScore(warmupSteps: 1));
        Assert.NotNull(GradientClipping.ByGlobalNorm(1, double.PositiveInfinity));
        Assert.NotNull(GradientClipping.ByGlobalNorm(1, 0.5));
    }

    [Fact]
    public void Then_rejects_null()
    {
        Assert.Throws<ArgumentNullException>(() => GradientClipping.ByValue(1).Then(null!));
    }
}
