namespace GradientDiagnostics.Tests;

public sealed class GradientMonitorOptionsTests
{
    [Fact]
    public void Validation_names_every_invalid_option_by_its_path_in_one_exception()
    {
        var options = new GradientMonitorOptions { FullStatisticsInterval = 0 };
        options.Vanishing.RelativeNormThreshold = 2;
        options.Exploding.CooldownSteps = -1;
        options.Telemetry.ExportInterval = 0;

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        string[] paths = ["Vanishing.RelativeNormThreshold", "Exploding.CooldownSteps", "Telemetry.ExportInterval", "FullStatisticsInterval"];
        Assert.Equal(string.Join(", ", paths), exception.ParamName);
        Assert.All(paths, p => Assert.Contains($"- {p}: {p} must be", exception.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Validation_of_one_invalid_option_throws_its_own_exception_and_valid_options_pass()
    {
        var options = new GradientMonitorOptions();
        options.Validate();
        options.Saturation.SaturatedFractionThreshold = 1.5;

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.Equal("Saturation.SaturatedFractionThreshold", exception.ParamName);
        Assert.Equal(1.5, exception.ActualValue);
    }

    [Fact]
    public void The_analyzer_refuses_invalid_options_naming_each_and_layer_outputs_are_probed_unless_turned_off()
    {
        var options = new GradientMonitorOptions();
        options.DeadUnits.Window = 0;
        options.Precision.UnderflowFractionThreshold = 0;

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new GradientAnalyzer(["a"], options));

        Assert.Equal(["DeadUnits.Window", "Precision.UnderflowFractionThreshold"], exception.ParamName!.Split(", "));
        Assert.Null(new GradientMonitorOptions().CaptureLayerOutputs);
    }
}
