using System.Globalization;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Samples;

/// <summary>
/// The fix-it-before-step-1 loop: check a too-small-initialized tanh MLP (Vanishing), re-initialize it for gradient flow,
/// check again (Healthy), then train it and an uninitialized copy (same weights, data and seed) and compare the losses.
/// </summary>
public static class InitializationRemedyDemo
{
    /// <summary>The variance of the sick network's weights, as a multiple of the Xavier variance.</summary>
    public const double VarianceFactor = 0.3;

    /// <summary>The SGD learning rate of both training runs.</summary>
    public const double LearningRate = 0.01;

    /// <summary>What the loop showed.</summary>
    /// <param name="Before">The check before the remedy.</param>
    /// <param name="Remedy">What the remedy did.</param>
    /// <param name="After">The check after it.</param>
    /// <param name="PlainLosses">The loss at every step of the uninitialized run.</param>
    /// <param name="InitializedLosses">The loss at every step of the re-initialized run.</param>
    public sealed record Summary(GradientFlowCheckResult Before, GradientFlowInitializationResult Remedy, GradientFlowCheckResult After, IReadOnlyList<double> PlainLosses, IReadOnlyList<double> InitializedLosses)
    {
        /// <summary>The mean loss over the last tenth of the steps (at least one), uninitialized and re-initialized.</summary>
        public (double Plain, double Initialized) FinalLosses
        {
            get
            {
                int tail = Math.Max(1, PlainLosses.Count / 10);
                return (PlainLosses.TakeLast(tail).Average(), InitializedLosses.TakeLast(tail).Average());
            }
        }
    }

    /// <summary>Runs the loop and prints it.</summary>
    public static Summary Run(GradientFlowDemo.Settings settings, TextWriter output)
    {
        var generator = new Generator(11);
        using Tensor calibration = randn([settings.BatchSize, settings.Width], generator: generator);
        using Tensor target = randn([settings.BatchSize, 1], generator: generator);
        using var model = Build(settings);

        GradientFlowCheckResult before = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(calibration), target));
        output.WriteLine($"   check:       {Describe(before)}");
        foreach (GradientAlert finding in before.Findings.OrderByDescending(f => f.Metric == GradientMetricNames.DepthGainOverDepth).Take(1))
        {
            output.WriteLine($"                {finding.Message}");
        }

        GradientFlowInitializationResult remedy = model.InitializeForGradientFlow(() => model.call(calibration));
        output.WriteLine($"   initialize:  {remedy.Message}");
        GradientFlowCheckResult after = model.CheckGradientFlow(() => nn.functional.mse_loss(model.call(calibration), target));
        output.WriteLine($"   check again: {Describe(after)}");

        List<double> initialized = Train(model, settings);
        using var plainModel = Build(settings);
        List<double> plain = Train(plainModel, settings);
        var summary = new Summary(before, remedy, after, plain, initialized);
        PrintCurves(summary, settings, output);
        return summary;
    }

    private static string Describe(GradientFlowCheckResult check) =>
        string.Create(CultureInfo.InvariantCulture, $"{check.Verdict} (depth gain {check.DepthGain:F3} per layer, {Math.Pow(check.DepthGain ?? double.NaN, check.ProbedLayerCount - 1):G3} over {check.ProbedLayerCount} probed layers; {check.Findings.Count} finding(s))");

    private static void PrintCurves(Summary summary, GradientFlowDemo.Settings settings, TextWriter output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   training loss, SGD lr {LearningRate}, same weights, data and seed:"));
        output.WriteLine($"   {"step",6} {"uninitialized",14} {"initialized",12}");
        int every = Math.Max(1, settings.Steps / 10);
        for (int step = 0; step < settings.Steps; step++)
        {
            if (step % every == 0 || step == settings.Steps - 1)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   {step,6} {summary.PlainLosses[step],14:G4} {summary.InitializedLosses[step],12:G4}"));
            }
        }

        (double plain, double initialized) = summary.FinalLosses;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   mean loss over the last {Math.Max(1, settings.Steps / 10)} steps: uninitialized {plain:G4}, initialized {initialized:G4}"));
    }

    /// <summary>A tanh MLP whose weights have <see cref="VarianceFactor"/> times the Xavier variance, built from one seed.</summary>
    private static nn.Module<Tensor, Tensor> Build(GradientFlowDemo.Settings s)
    {
        manual_seed(42);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < s.Depth - 1; i++)
        {
            var linear = nn.Linear(s.Width, s.Width);
            using (no_grad())
            {
                nn.init.xavier_normal_(linear.weight!);
                linear.weight!.mul_(Math.Sqrt(VarianceFactor));
                nn.init.zeros_(linear.bias!);
            }

            layers.Add(($"fc{i}", linear));
            layers.Add(($"act{i}", nn.Tanh()));
        }

        layers.Add(("head", nn.Linear(s.Width, 1)));
        return nn.Sequential(layers);
    }

    /// <summary>Plain SGD on the demo's regression task (y = sin(x·d/√width)), the data drawn from a fixed seed.</summary>
    private static List<double> Train(nn.Module<Tensor, Tensor> model, GradientFlowDemo.Settings settings)
    {
        var generator = new Generator(7);
        using var direction = randn([settings.Width, 1], generator: generator);
        using var optimizer = optim.SGD(model.parameters(), LearningRate);
        var losses = new List<double>(settings.Steps);
        for (int step = 0; step < settings.Steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            (Tensor x, Tensor y) = GradientFlowDemo.Batch(settings, direction, generator);
            var loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        return losses;
    }
}
