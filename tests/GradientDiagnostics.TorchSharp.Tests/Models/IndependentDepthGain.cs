using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Models;

/// <summary>
/// A measurement of the depth gain that shares nothing with the product's: libtorch's own <c>retain_grad</c> on each
/// named module's output (<see cref="OutputGradientRecorder"/>), one MSE backward, and an ordinary least-squares fit of
/// ln ‖∂L/∂y_l‖ against the layer index l (no trimming). ‖∂L/∂y_l‖ ≈ c·g^(L−l), so the slope is −ln g.
/// </summary>
internal static class IndependentDepthGain
{
    public static double Measure(nn.Module<Tensor, Tensor> model, IReadOnlyList<string> names, Tensor x, Tensor y)
    {
        double[] logs;
        using (var recorder = new OutputGradientRecorder(model, names))
        {
            using (var scope = NewDisposeScope())
            {
                nn.functional.mse_loss(model.call(x), y).backward();
            }

            logs = [.. names.Select(n => Math.Log(recorder.Norm(n)))];
        }

        model.zero_grad();
        double meanX = (logs.Length - 1) / 2.0, meanY = logs.Average(), sxy = 0, sxx = 0;
        for (int i = 0; i < logs.Length; i++)
        {
            sxy += (i - meanX) * (logs[i] - meanY);
            sxx += (i - meanX) * (i - meanX);
        }

        return Math.Exp(-sxy / sxx);
    }

    /// <summary>The Linear layers of an <see cref="Mlp"/> in forward order: fc{i}.linear, then head.</summary>
    public static string[] MlpLayers(int depth) => [.. Enumerable.Range(0, depth - 1).Select(i => $"fc{i}.linear"), "head"];
}
