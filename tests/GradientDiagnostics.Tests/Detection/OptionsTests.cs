namespace GradientDiagnostics.Tests.Detection;

public sealed class OptionsTests
{
    [Theory]
    [InlineData("Saturation.SaturatedFractionThreshold")]
    [InlineData("DeadUnits.Window")]
    [InlineData("PoorInitialization.WeightStdFactor")]
    [InlineData("UpdateRatio.MaxRatio")]
    [InlineData("Exploding.SpikeEmaDecay")]
    [InlineData("Exploding.SpikeWarmupSteps")]
    public void Out_of_range_options_throw_naming_the_option_and_its_range(string path)
    {
        var options = new GradientMonitorOptions();
        Action set = path switch
        {
            "Saturation.SaturatedFractionThreshold" => () => options.Saturation.SaturatedFractionThreshold = 1.5,
            "DeadUnits.Window" => () => options.DeadUnits.Window = 0,
            "PoorInitialization.WeightStdFactor" => () => options.PoorInitialization.WeightStdFactor = 0.5,
            "UpdateRatio.MaxRatio" => () => options.UpdateRatio.MaxRatio = 1e-9,
            "Exploding.SpikeEmaDecay" => () => options.Exploding.SpikeEmaDecay = 1,
            _ => () => options.Exploding.SpikeWarmupSteps = 1,
        };
        set();

        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => new GradientAnalyzer(["a"], options));

        Assert.Equal(path, error.ParamName);
        Assert.Contains(path + " must be", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Presets_are_valid_and_sensitive_fires_where_the_default_waits()
    {
        GradientMonitorOptions.Sensitive().Validate();
        GradientMonitorOptions.Quiet().Validate();
        var sensitive = new GradientAnalyzer(["a", "b"], GradientMonitorOptions.Sensitive());
        var defaults = new GradientAnalyzer(["a", "b"], new GradientMonitorOptions());
        var quiet = new GradientAnalyzer(["a", "b"], GradientMonitorOptions.Quiet());
        LayerObservation[] step = [Synthetic.Gradient(10, 1e-4f), Synthetic.Gradient(10, 0.5f)]; // ratio 2e-4

        Assert.Single(sensitive.Analyze(step).Alerts); // below 1e-3 at once
        Assert.Empty(Enumerable.Range(0, 5).SelectMany(_ => defaults.Analyze(step).Alerts)); // above the default 1e-4
        Assert.Empty(Enumerable.Range(0, 5).SelectMany(_ => quiet.Analyze(step).Alerts));
        Assert.Equal(1000, GradientMonitorOptions.Quiet().Exploding.CooldownSteps);
    }
}
