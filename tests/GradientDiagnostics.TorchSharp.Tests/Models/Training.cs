using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Models;

/// <summary>Runs SGD on a small synthetic regression task with a monitor attached.</summary>
internal static class Training
{
    public static List<GradientStepResult> Run(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, int steps, int width, double learningRate = 1e-3, int batch = 32, int seed = 7)
    {
        var results = new List<GradientStepResult>();
        using var optimizer = optim.SGD(model.parameters(), learningRate);
        var generator = new Generator((ulong)seed);
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var x = randn([batch, width], generator: generator);
            var y = x[.., ..4].sum(1, keepdim: true).sin();
            var loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            results.Add(result);
            if (!result.SkipStep)
            {
                optimizer.step();
            }
        }

        return results;
    }
}
