namespace GradientDiagnostics.Tests.Statistics;

public sealed class DepthProfileTests
{
    [Fact]
    public void Geometric_profile_gives_its_ratio()
    {
        double[] norms = [.. Enumerable.Range(0, 30).Select(i => Math.Pow(0.25, 29 - i))];
        Assert.Equal(0.25, DepthProfile.FitGain(norms)!.Value, 1e-12);
    }

    [Fact]
    public void A_few_noisy_layers_do_not_move_the_fit()
    {
        double[] norms = [.. Enumerable.Range(0, 30).Select(i => Math.Pow(1.5, 29 - i))];
        norms[10] *= 1000;
        norms[20] /= 1000;
        Assert.Equal(1.5, DepthProfile.FitGain(norms)!.Value, 0.05);
    }

    [Fact]
    public void Fewer_than_two_usable_norms_give_no_gain()
    {
        Assert.Null(DepthProfile.FitGain([1.0]));
        Assert.Null(DepthProfile.FitGain([1.0, double.NaN, 0.0]));
    }
}
