using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Reliability;

/// <summary>Where a fault is written.</summary>
internal enum FaultSite { Gradient, Loss, Activation, Input }

/// <summary>One injected fault: at which step, where, which value, and (for a gradient) into which layer.</summary>
internal sealed record Injection(int Step, FaultSite Site, double Value, int Layer);

/// <summary>
/// A seeded NaN / ±Infinity campaign on a real MLP (4 Linear layers of width 32, ReLU, batch 16, SGD): the same data
/// and the same initial weights on every run, so a faulty run can be compared with a clean run that skips the same
/// optimizer steps.
/// </summary>
internal sealed class FaultCampaign
{
    public const int Width = 32;
    public const int Batch = 16;
    private const int Seed = 9;

    public FaultCampaign(int steps, double rate)
    {
        var random = new Random(Seed);
        double[] values = [double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        var injections = new Dictionary<int, Injection>();
        int count = (int)Math.Round(steps * rate);
        int site = 0;
        while (injections.Count < count)
        {
            int step = random.Next(1, steps);
            if (!injections.ContainsKey(step))
            {
                // The sites take turns, so each gets a quarter of the injections; the value and the layer are random.
                injections[step] = new Injection(step, (FaultSite)(site++ % 4), values[random.Next(values.Length)], random.Next(4));
            }
        }

        Steps = steps;
        Injections = injections;
    }

    public int Steps { get; }

    public IReadOnlyDictionary<int, Injection> Injections { get; }

    /// <summary>The campaign's MLP with He-scaled weights drawn from its own generator, so no draw from the global
    /// generator elsewhere can change them: every call returns the same initial weights.</summary>
    public static nn.Module<Tensor, Tensor> CreateModel()
    {
        var model = Mlp.Create(depth: 4, Width, Activation.ReLU, Init.He);
        var generator = new Generator(Seed);
        using var noGrad = no_grad();
        foreach (var parameter in model.parameters())
        {
            using var values = parameter.dim() == 2
                ? randn(parameter.shape, generator: generator).mul_(Math.Sqrt(2.0 / parameter.shape[1]))
                : zeros(parameter.shape);
            parameter.copy_(values);
        }

        return model;
    }

    /// <summary>Trains <paramref name="model"/> for <see cref="Steps"/> steps. With <paramref name="monitor"/>, faults are
    /// injected and the monitor decides whether to step; without it, the run is clean and skips the optimizer step at
    /// every injection step. <paramref name="afterStep"/> sees each step's number and result (null for a clean run).
    /// <paramref name="passLoss"/> false calls <c>Step()</c> without the loss; <paramref name="site"/> overrides every
    /// injection's site; the run stops after <paramref name="lastStep"/>.</summary>
    public void Train(nn.Module<Tensor, Tensor> model, GradientMonitor? monitor, Action<int, GradientStepResult?> afterStep, bool passLoss = true, int? lastStep = null, FaultSite? site = null)
    {
        using var optimizer = optim.SGD(model.parameters(), 0.01);
        var generator = new Generator(Seed);
        Injection? current = null;
        var activation = (nn.Module<Tensor, Tensor>)model.named_modules().Single(m => m.name == "fc1.act").module;
        var hook = activation.register_forward_hook((_, _, output) => current?.Site == FaultSite.Activation ? Corrupt(output, current.Value) : output);
        global::TorchSharp.Modules.Parameter[] weights = [.. model.parameters()];
        for (int step = 0; step <= (lastStep ?? Steps - 1); step++)
        {
            using var scope = NewDisposeScope();
            current = monitor is null ? null : Injections.GetValueOrDefault(step);
            current = current is not null && site is FaultSite forced ? current with { Site = forced } : current;
            optimizer.zero_grad();
            var x = randn([Batch, Width], generator: generator);
            var y = x[.., ..4].sum(1, keepdim: true).sin();
            if (current?.Site == FaultSite.Input)
            {
                x = Corrupt(x, current.Value);
            }

            var loss = nn.functional.mse_loss(model.call(x), y);
            if (current?.Site == FaultSite.Loss)
            {
                loss = loss * current.Value;
            }

            loss.backward();
            if (current?.Site == FaultSite.Gradient)
            {
                using var noGrad = no_grad();
                using var grad = weights[2 * current.Layer].grad!; // Linear weights and biases alternate
                grad.view(-1)[3].fill_(current.Value);
            }

            GradientStepResult? result = monitor?.Step(passLoss ? loss : null);
            bool skip = result?.SkipStep ?? Injections.ContainsKey(step);
            if (!skip)
            {
                optimizer.step();
            }

            afterStep(step, result);
        }

        hook.remove();
    }

    /// <summary>The mean squared error on a fixed batch the run never trains on.</summary>
    public static double EvaluationLoss(nn.Module<Tensor, Tensor> model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn([256, Width], generator: new Generator(Seed + 1));
        var y = x[.., ..4].sum(1, keepdim: true).sin();
        return nn.functional.mse_loss(model.call(x), y).item<float>();
    }

    /// <summary>Whether every parameter of <paramref name="model"/> is finite (one concatenation, one host read).</summary>
    public static bool WeightsAreFinite(nn.Module model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return nn.utils.parameters_to_vector(model.parameters()).isfinite().all().item<bool>();
    }

    /// <summary>Whether two models' parameters are equal element for element (bitwise for finite values).</summary>
    public static bool WeightsAreEqual(nn.Module a, nn.Module b)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = nn.utils.parameters_to_vector(a.parameters()), y = nn.utils.parameters_to_vector(b.parameters());
        return x.shape.SequenceEqual(y.shape) && x.eq(y).all().item<bool>();
    }

    /// <summary>A copy of <paramref name="tensor"/> with one element replaced by <paramref name="value"/> (out of place,
    /// so autograd's saved tensors are untouched).</summary>
    private static Tensor Corrupt(Tensor tensor, double value)
    {
        var mask = zeros_like(tensor, dtype: ScalarType.Bool);
        mask.view(-1)[5].fill_(true);
        return tensor.masked_fill(mask, value);
    }
}
