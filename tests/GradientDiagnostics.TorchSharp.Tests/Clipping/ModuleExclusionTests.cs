using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Clipping;

public sealed class ModuleExclusionTests
{
    [Fact]
    public void Agc_leaves_the_head_module_alone_and_clips_the_rest()
    {
        manual_seed(5);
        using var model = Mlp.Create(depth: 3, width: 16, Activation.ReLU, Init.He);
        nn.Module head = model.named_children().Single(c => c.name == "head").module;
        using (var x = randn(8, 16))
        using (var loss = model.call(x).square().sum().mul(1000))
        {
            loss.backward();
        }

        float[][] before = Gradients(model);
        string[] excluded = model.ModulePaths(head);
        using GradientMonitor monitor = model.AttachGradientMonitor(o => o.Clipping = GradientClipping.Adaptive(excludedLayers: excluded));

        Assert.True(monitor.Step().ClippingActed);

        float[][] after = Gradients(model);
        Assert.Equal(["head"], excluded);
        Assert.Equal(before[^1], after[^1]);
        Assert.Equal(before[^2], after[^2]);
        Assert.NotEqual(before[0], after[0]);
    }

    [Fact]
    public void ModulePaths_names_nested_modules_as_the_monitor_names_layers()
    {
        using var model = Mlp.Create(depth: 3, width: 4, Activation.Tanh, Init.Xavier);
        nn.Module fc1 = model.named_children().Single(c => c.name == "fc1").module;
        nn.Module linear = fc1.named_children().Single(c => c.name == "linear").module;
        using GradientMonitor monitor = model.AttachGradientMonitor();

        string[] paths = model.ModulePaths(linear, fc1);

        Assert.Equal(["fc1.linear", "fc1"], paths);
        Assert.Contains("fc1.linear", monitor.LayerNames);
    }

    [Fact]
    public void ModulePaths_rejects_a_module_outside_the_model()
    {
        using var model = Mlp.Create(depth: 2, width: 4, Activation.Tanh, Init.Xavier);
        using var stranger = nn.Linear(4, 4);

        Assert.Throws<ArgumentException>(() => model.ModulePaths(stranger));
    }

    private static float[][] Gradients(nn.Module model) =>
        [.. model.parameters().Select(p => { using var g = p.grad!; return g.data<float>().ToArray(); })];
}
