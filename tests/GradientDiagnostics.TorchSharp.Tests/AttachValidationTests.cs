using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

public sealed class AttachValidationTests
{
    [Fact]
    public void Null_module_is_rejected()
    {
        nn.Module? module = null;
        ArgumentNullException error = Assert.Throws<ArgumentNullException>(() => module!.AttachGradientMonitor());
        Assert.Equal("module", error.ParamName);
    }

    [Fact]
    public void Module_without_parameters_is_rejected_with_a_clear_message()
    {
        using var model = nn.Sequential(nn.ReLU(), nn.Sigmoid());
        ArgumentException error = Assert.Throws<ArgumentException>(() => model.AttachGradientMonitor());
        Assert.Contains("no trainable parameters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Module_whose_parameters_are_all_frozen_is_rejected()
    {
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        foreach (var parameter in model.parameters())
        {
            parameter.requires_grad = false;
        }

        ArgumentException error = Assert.Throws<ArgumentException>(() => model.AttachGradientMonitor());
        Assert.Contains("requires_grad = false", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Vanishing.MeanMagnitudeThreshold", -1.0)]
    [InlineData("Vanishing.MeanMagnitudeThreshold", double.NaN)]
    [InlineData("Vanishing.RelativeNormThreshold", 1.5)]
    [InlineData("Exploding.GlobalNormThreshold", 0.0)]
    [InlineData("Exploding.GlobalNormThreshold", double.PositiveInfinity)]
    [InlineData("Exploding.RelativeNormThreshold", 0.5)]
    public void Invalid_thresholds_are_rejected_at_attach_naming_the_option(string option, double value)
    {
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        Action<GradientMonitorOptions> configure = option switch
        {
            "Vanishing.MeanMagnitudeThreshold" => o => o.Vanishing.MeanMagnitudeThreshold = value,
            "Vanishing.RelativeNormThreshold" => o => o.Vanishing.RelativeNormThreshold = value,
            "Exploding.GlobalNormThreshold" => o => o.Exploding.GlobalNormThreshold = value,
            _ => o => o.Exploding.RelativeNormThreshold = value,
        };

        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => model.AttachGradientMonitor(configure));
        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_persistence_is_rejected_at_attach_naming_the_option()
    {
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(
            () => model.AttachGradientMonitor(o => o.Vanishing.Persistence = 6));
        Assert.Equal("Vanishing.Persistence", error.ParamName);
    }

    [Fact]
    public void Step_after_dispose_throws_and_dispose_twice_is_safe()
    {
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        var monitor = model.AttachGradientMonitor();
        monitor.Dispose();
        monitor.Dispose();
        Assert.Throws<ObjectDisposedException>(() => monitor.Step());
    }

    [Fact]
    public void Loss_with_more_than_one_element_is_rejected()
    {
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor();
        using var loss = ones(2);
        ArgumentException error = Assert.Throws<ArgumentException>(() => monitor.Step(loss));
        Assert.Equal("loss", error.ParamName);
    }
}
