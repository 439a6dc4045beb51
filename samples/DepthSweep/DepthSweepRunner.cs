using System.Globalization;
using System.Text;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Samples.DepthSweep;

/// <summary>Measures, with the monitor, how gradients behave with depth for each activation and init.</summary>
public static class DepthSweepRunner
{
    /// <summary>The configurations of a sweep, in the order they run.</summary>
    public static IEnumerable<(int Depth, ActivationChoice Activation, InitKind Init)> Configurations(SweepSettings settings) =>
        from activation in settings.Activations
        from init in settings.Inits
        from depth in settings.Depths
        select (depth, activation, init);

    /// <summary>Measures one configuration.</summary>
    public static SweepRow Measure(int depth, ActivationChoice activation, InitKind init, SweepSettings settings)
    {
        double logGain = 0, logRatio = 0;
        int gains = 0, ratios = 0;
        var alerts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int seed = 0; seed < settings.Seeds; seed++)
        {
            manual_seed(1000 + seed);
            using var model = Build(depth, settings.Width, activation, init);
            using var optimizer = optim.SGD(model.parameters(), 1e-3);
            using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);
            monitor.AlertRaised += (_, alert) =>
            {
                string key = alert.Kind.ToString();
                alerts[key] = alerts.GetValueOrDefault(key) + 1;
            };

            for (int step = 0; step < settings.Steps; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var x = randn(settings.BatchSize, settings.Width);
                // A random linear readout, L = mean over the batch of r·y: its gradient ∂L/∂y = r/B does not depend on the
                // weights, so the measured ratios are the network's own per-layer factors (an MSE error relu(z) − t is
                // correlated with the last layer's weights and inflates the last ratio of a shallow network).
                var readout = randn(settings.BatchSize, settings.Width);
                var loss = (model.call(x) * readout).sum() / settings.BatchSize;
                loss.backward();
                GradientStepResult result = monitor.Step(loss);
                if (step == 0)
                {
                    // The profile at init, before any update: what the theory describes.
                    if (result.DepthGain is double gain)
                    {
                        logGain += Math.Log(gain);
                        gains++;
                    }

                    // A first-layer norm of exactly 0 is a signal that underflowed float32: log 0 = −∞, fully vanished.
                    if (result.Layers[0].OutputGradientNorm is double first && result.Layers[^1].OutputGradientNorm is double last && last > 0)
                    {
                        logRatio += Math.Log(first / last);
                        ratios++;
                    }
                }

                if (!result.SkipStep)
                {
                    optimizer.step();
                }
            }
        }

        double measured = gains > 0 ? Math.Exp(logGain / gains) : double.NaN;
        double ratio = ratios > 0 ? Math.Exp(logRatio / ratios) : double.NaN;
        string fired = alerts.Count == 0 ? "none" : string.Join(", ", alerts.Select(a => $"{a.Key} ×{a.Value}"));
        return new SweepRow(depth, activation, init, MeanFieldTheory.Gain(activation, init, settings.Width, depth), measured, ratio, Classify(ratio), fired);
    }

    /// <summary>Classifies by the first/last output-gradient ratio r: within 10× is safe; 10× to 1000× is starting;
    /// beyond 1000× (three orders of magnitude) is vanishing or exploding.</summary>
    public static DepthClass Classify(double firstToLastRatio)
    {
        double decades = Math.Log10(firstToLastRatio);
        return decades switch
        {
            double.NaN => DepthClass.Unmeasured,
            < -3 => DepthClass.Vanishing,
            < -1 => DepthClass.StartingToVanish,
            <= 1 => DepthClass.Safe,
            <= 3 => DepthClass.StartingToExplode,
            _ => DepthClass.Exploding,
        };
    }

    /// <summary>The class as a short phrase for tables.</summary>
    public static string Describe(DepthClass depthClass) => depthClass switch
    {
        DepthClass.Safe => "safe",
        DepthClass.StartingToVanish => "starts to vanish",
        DepthClass.StartingToExplode => "starts to explode",
        DepthClass.Vanishing => "vanishing",
        DepthClass.Exploding => "exploding",
        _ => "unmeasured",
    };

    /// <summary>The ratio for tables; 0 means the first layer's signal underflowed float32.</summary>
    public static string FormatRatio(double ratio) =>
        ratio == 0 ? "0 (underflow)" : ratio.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>Writes the rows as a Markdown table.</summary>
    public static string ToMarkdown(IEnumerable<SweepRow> rows, string command)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Produced by `{command}`.");
        text.AppendLine();
        text.AppendLine("| activation | init | depth | theory gain | measured gain | first/last ‖∂L/∂z‖ | class | alerts |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---|---|");
        foreach (SweepRow r in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {r.Activation} | {r.Init} | {r.Depth} | {r.TheoryGain:F3} | {r.MeasuredGain:F3} | {FormatRatio(r.FirstToLastRatio)} | {Describe(r.Class)} | {r.Alerts} |");
        }

        return text.ToString();
    }

    private static nn.Module<Tensor, Tensor> Build(int depth, int width, ActivationChoice activation, InitKind init)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < depth; i++)
        {
            var linear = nn.Linear(width, width);
            using (no_grad())
            {
                switch (init)
                {
                    case InitKind.Xavier:
                        nn.init.xavier_normal_(linear.weight!);
                        break;
                    case InitKind.He:
                    case InitKind.He2x:
                        nn.init.kaiming_normal_(linear.weight!, nonlinearity: nn.init.NonlinearityType.ReLU);
                        break;
                }

                if (init == InitKind.He2x)
                {
                    linear.weight!.mul_(2.0);
                }

                if (init != InitKind.Default)
                {
                    nn.init.zeros_(linear.bias!);
                }
            }

            layers.Add(($"fc{i}", linear));
            layers.Add(($"act{i}", activation switch
            {
                ActivationChoice.Sigmoid => nn.Sigmoid(),
                ActivationChoice.Tanh => nn.Tanh(),
                _ => (nn.Module<Tensor, Tensor>)nn.ReLU(),
            }));
        }

        return nn.Sequential(layers);
    }
}
