using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Models;

public enum Activation { Sigmoid, Tanh, ReLU }

public enum Init { TorchSharpDefault, Xavier, He }

/// <summary>Deep MLPs for the tests: <c>depth</c> Linear layers (the last is a width→1 head).</summary>
internal static class Mlp
{
    public static nn.Module<Tensor, Tensor> Create(int depth, int width, Activation activation, Init init, double initScale = 1.0, bool residual = false)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < depth - 1; i++)
        {
            var linear = nn.Linear(width, width);
            Initialize(linear, init, activation, initScale);
            modules.Add(residual
                ? ($"block{i}", new ResidualBlock($"block{i}", linear, CreateActivation(activation)))
                : ($"fc{i}", nn.Sequential(("linear", linear), ("act", CreateActivation(activation)))));
        }

        var head = nn.Linear(width, 1);
        modules.Add(("head", head));
        return nn.Sequential(modules);
    }

    private static nn.Module<Tensor, Tensor> CreateActivation(Activation activation) => activation switch
    {
        Activation.Sigmoid => nn.Sigmoid(),
        Activation.Tanh => nn.Tanh(),
        _ => nn.ReLU(),
    };

    private static void Initialize(global::TorchSharp.Modules.Linear linear, Init init, Activation activation, double scale)
    {
        using var _ = no_grad();
        switch (init)
        {
            case Init.He:
                nn.init.kaiming_normal_(linear.weight!, nonlinearity: nn.init.NonlinearityType.ReLU);
                break;
            case Init.Xavier:
                nn.init.xavier_normal_(linear.weight!);
                break;
        }

        if (init != Init.TorchSharpDefault)
        {
            nn.init.zeros_(linear.bias!);
        }

        if (scale != 1.0)
        {
            linear.weight!.mul_(scale);
        }
    }

    /// <summary>x + act(linear(x)), calling its children through call() so hooks see them.</summary>
    private sealed class ResidualBlock : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> linear;
        private readonly nn.Module<Tensor, Tensor> act;

        public ResidualBlock(string name, nn.Module<Tensor, Tensor> linear, nn.Module<Tensor, Tensor> act)
            : base(name)
        {
            this.linear = linear;
            this.act = act;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var h = linear.call(input);
            using var a = act.call(h);
            return input + a;
        }
    }
}
