using static TorchSharp.torch;

namespace GradientDiagnostics.Samples.MemoryHorizon;

/// <summary>
/// The recall task: each sequence carries a random value in U(−1, 1) on channel 0 at every step, and a marker (1) on
/// channel 1 at one step among the first <c>T − MinLag</c>; the target, read at the last step, is the marked step's
/// value, seen between <see cref="MinLag"/> and T − 1 steps earlier. Every other step is a distractor, so the only way to
/// the answer is to keep one number in memory across at least <see cref="MinLag"/> steps. Predicting 0 scores the
/// variance of U(−1, 1), 1/3 (<see cref="BaselineLoss"/>).
/// </summary>
public static class RecallTask
{
    /// <summary>The fewest steps between the marked value and the answer.</summary>
    public const int MinLag = 40;

    /// <summary>The mean squared error of always answering 0: Var U(−1, 1) = 1/3.</summary>
    public const double BaselineLoss = 1.0 / 3;

    /// <summary>A batch: inputs [T, B, 2] and targets [B, 1].</summary>
    public static (Tensor Input, Tensor Target) Batch(int length, int batch, Generator generator)
    {
        Tensor values = rand([length, batch], generator: generator) * 2 - 1;
        Tensor position = randint(0, length - MinLag + 1, [batch], generator: generator);
        Tensor marker = nn.functional.one_hot(position, length).t().to_type(ScalarType.Float32);
        Tensor target = (values * marker).sum(dim: 0).unsqueeze(1);
        return (stack([values, marker], dim: 2), target);
    }
}
