using System.Globalization;
using GradientDiagnostics.TorchSharp;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace GradientDiagnostics.Samples;

/// <summary>Trains the same task twice, with a vanishing network and with a healthy one, and compares them; then fixes a
/// vanishing network before step 1 (<see cref="InitializationRemedyDemo"/>).</summary>
public static class GradientFlowDemo
{
    /// <summary>The demo's sizes; the defaults run in a few seconds on 2 CPU cores.</summary>
    public sealed class Settings
    {
        /// <summary>Linear layers per network, the head included.</summary>
        public int Depth { get; init; } = 20;

        /// <summary>Units per hidden layer.</summary>
        public int Width { get; init; } = 64;

        /// <summary>Training steps per network.</summary>
        public int Steps { get; init; } = 300;

        /// <summary>Examples per batch.</summary>
        public int BatchSize { get; init; } = 64;

        /// <summary>Where the two HTML reports are written.</summary>
        public string ReportDirectory { get; init; } = Path.Combine("artifacts", "gradient-flow-demo");
    }

    /// <summary>What one training run produced.</summary>
    /// <param name="Name">The network.</param>
    /// <param name="FirstLoss">The loss at step 0.</param>
    /// <param name="LastLoss">The loss at the last step.</param>
    /// <param name="FirstToLastLayerNormRatio">The first layer's parameter-gradient norm over the last layer's, at the last step.</param>
    /// <param name="DepthGain">The fitted per-layer gain of ‖∂L/∂y‖ at the last full-statistics step.</param>
    /// <param name="Alerts">Alerts raised.</param>
    /// <param name="VanishingAlerts">Vanishing alerts raised.</param>
    /// <param name="ReportPath">The HTML report written for the run.</param>
    /// <param name="Raised">Every alert raised, in order.</param>
    public sealed record RunSummary(string Name, double FirstLoss, double LastLoss, double FirstToLastLayerNormRatio, double? DepthGain, int Alerts, int VanishingAlerts, string ReportPath,
        IReadOnlyList<GradientAlert> Raised);

    /// <summary>Runs both trainings and prints the logs and a side-by-side summary.</summary>
    public static int Run(Settings settings, TextWriter output)
    {
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.IncludeScopes = false; }).SetMinimumLevel(LogLevel.Warning));
        ILogger logger = loggerFactory.CreateLogger("GradientDiagnostics");

        output.WriteLine($"1) {settings.Depth}-layer sigmoid MLP, TorchSharp default init: expect Vanishing alerts.");
        RunSummary sick = TrainSigmoid(settings, logger, output);
        loggerFactory.Dispose();

        output.WriteLine();
        output.WriteLine($"2) {settings.Depth}-layer ReLU MLP, He init, residual connections: expect a clean run.");
        using var quietFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        RunSummary healthy = Train("ReLU + He + residual", "residual", BuildResidual(settings), settings, quietFactory.CreateLogger("GradientDiagnostics"), output);

        output.WriteLine();
        output.WriteLine($"{"network",-24} {"loss first",11} {"loss last",11} {"|g| first/last",15} {"depth gain",11} {"alerts",7}");
        foreach (RunSummary s in new[] { sick, healthy })
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Name,-24} {s.FirstLoss,11:G4} {s.LastLoss,11:G4} {s.FirstToLastLayerNormRatio,15:G3} {s.DepthGain,11:F3} {s.Alerts,7}"));
        }

        output.WriteLine();
        output.WriteLine("Depth gain: the fitted per-layer factor of the back-propagated signal ‖∂L/∂y‖ (1 = healthy, < 1 vanishes).");
        output.WriteLine($"HTML reports: {Path.GetFullPath(sick.ReportPath)} and {Path.GetFullPath(healthy.ReportPath)}");

        output.WriteLine();
        output.WriteLine("   The sigmoid network cannot be fixed by initialization alone:");
        using (var sigmoid = BuildSigmoid(settings))
        using (var batch = randn([settings.BatchSize, settings.Width], generator: new Generator(3)))
        {
            output.WriteLine($"   initialize:  {sigmoid.InitializeForGradientFlow(() => sigmoid.call(batch)).Message}");
        }

        output.WriteLine();
        output.WriteLine($"3) Fix it before step 1: a {settings.Depth}-layer tanh MLP at {InitializationRemedyDemo.VarianceFactor}x the Xavier variance: check, initialize, check again, train.");
        InitializationRemedyDemo.Run(settings, output);

        return 0;
    }

    /// <summary>Part 1 alone: trains the sigmoid network at TorchSharp's default init, logging its alerts to
    /// <paramref name="logger"/>, and writes its report.</summary>
    public static RunSummary TrainSigmoid(Settings settings, ILogger logger, TextWriter output)
    {
        Directory.CreateDirectory(settings.ReportDirectory);
        return Train("sigmoid, default init", "sigmoid", BuildSigmoid(settings), settings, logger, output);
    }

    private static RunSummary Train(string name, string fileName, nn.Module<Tensor, Tensor> model, Settings settings, ILogger logger, TextWriter output)
    {
        manual_seed(42);
        var generator = new Generator(7);
        using var direction = randn([settings.Width, 1], generator: generator);
        using var optimizer = optim.SGD(model.parameters(), 0.01);
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true, logger);
        var raised = new List<GradientAlert>();
        monitor.AlertRaised += (_, alert) => raised.Add(alert);

        double firstLoss = double.NaN, lastLoss = double.NaN, ratio = double.NaN;
        double? depthGain = null;
        for (int step = 0; step < settings.Steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            (Tensor x, Tensor y) = Batch(settings, direction, generator);
            var loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            if (!result.SkipStep)
            {
                optimizer.step();
            }

            lastLoss = result.Loss ?? double.NaN;
            if (step == 0)
            {
                firstLoss = lastLoss;
            }

            ratio = result.Layers[0].GradientNorm / result.Layers[^1].GradientNorm;
            depthGain = result.DepthGain ?? depthGain;
        }

        string reportPath = Path.Combine(settings.ReportDirectory, $"{fileName}.html");
        monitor.CreateReport(name).Save(reportPath);

        int vanishing = raised.Count(a => a.Kind == GradientAlertKind.Vanishing);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   {name}: {raised.Count} alerts ({vanishing} Vanishing), loss {firstLoss:G4} -> {lastLoss:G4}"));
        model.Dispose();
        return new RunSummary(name, firstLoss, lastLoss, ratio, depthGain, raised.Count, vanishing, reportPath, raised);
    }

    /// <summary>One batch of the demo's task, y = sin(x·d / √width) for a fixed random direction d; both demos train on it.</summary>
    internal static (Tensor X, Tensor Y) Batch(Settings settings, Tensor direction, Generator generator)
    {
        Tensor x = randn([settings.BatchSize, settings.Width], generator: generator);
        return (x, (x.matmul(direction) / Math.Sqrt(settings.Width)).sin());
    }

    private static nn.Module<Tensor, Tensor> BuildSigmoid(Settings s)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < s.Depth - 1; i++)
        {
            layers.Add(($"fc{i}", nn.Linear(s.Width, s.Width)));
            layers.Add(($"act{i}", nn.Sigmoid()));
        }

        layers.Add(("head", nn.Linear(s.Width, 1)));
        return nn.Sequential(layers);
    }

    private static nn.Module<Tensor, Tensor> BuildResidual(Settings s)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < s.Depth - 1; i++)
        {
            layers.Add(($"block{i}", new ResidualBlock($"block{i}", s.Width, s.Depth)));
        }

        layers.Add(("head", nn.Linear(s.Width, 1)));
        return nn.Sequential(layers);
    }

    /// <summary>A pre-activation residual block, x + W·ReLU(x) (He et al. 2016, "Identity Mappings in Deep Residual
    /// Networks"), with W He-initialised and scaled by 1/√depth so the variance of the sum stays bounded.</summary>
    private sealed class ResidualBlock : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> linear;
        private readonly nn.Module<Tensor, Tensor> relu = nn.ReLU();

        public ResidualBlock(string name, int width, int depth)
            : base(name)
        {
            var fc = nn.Linear(width, width);
            using (no_grad())
            {
                nn.init.kaiming_normal_(fc.weight!, nonlinearity: nn.init.NonlinearityType.ReLU);
                fc.weight!.div_(Math.Sqrt(depth));
                nn.init.zeros_(fc.bias!);
            }

            linear = fc;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var a = relu.call(input);
            using var h = linear.call(a);
            return input + h;
        }
    }
}
