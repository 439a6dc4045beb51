using System.CommandLine;
using System.Globalization;
using GradientDiagnostics;
using GradientDiagnostics.Samples;
using GradientDiagnostics.Samples.MixedPrecision;
using static TorchSharp.torch;

// The same 3-layer tanh MLP and data, trained five ways, for 16-bit training on TorchSharp (no GradScaler, no autocast):
//   fp32 + Adam; the model .half() + Adam as it is; .half() with EnableMixedPrecision (fp32 masters, dynamic loss scale);
//   bfloat16 + SGD at a small learning rate as it is; bfloat16 with EnableMixedPrecision.
// Run: dotnet run --project samples/MixedPrecision [-- [<steps>]]   (default 200 steps; a few seconds per run on 2 cores;
// --help lists the arguments)
Argument<int> steps = SampleCommandLine.Steps(200, "Training steps per run (six runs).");
var root = new RootCommand("One tanh MLP trained in fp32, float16 and bfloat16, naive and with EnableMixedPrecision.") { steps };
root.SetAction(parse => Show(parse.GetValue(steps)));
return root.Parse(args).Invoke();

static int Show(int steps)
{
    Run[] runs =
    [
        MixedPrecisionDemo.Train("fp32, Adam", ScalarType.Float32, masters: false, adam: true, steps),
        MixedPrecisionDemo.Train("float16 naive, Adam", ScalarType.Float16, masters: false, adam: true, steps),
        MixedPrecisionDemo.Train("float16 + EnableMixedPrecision, Adam", ScalarType.Float16, masters: true, adam: true, steps),
        MixedPrecisionDemo.Train("fp32, SGD lr 0.02", ScalarType.Float32, masters: false, adam: false, steps),
        MixedPrecisionDemo.Train("bfloat16 naive, SGD lr 0.02", ScalarType.BFloat16, masters: false, adam: false, steps),
        MixedPrecisionDemo.Train("bfloat16 + EnableMixedPrecision, SGD lr 0.02", ScalarType.BFloat16, masters: true, adam: false, steps),
    ];

    int[] shown = [.. new[] { 0, steps / 4, steps / 2, steps - 1 }.Distinct()];
    Console.WriteLine($"| run | {string.Join(" | ", shown.Select(s => $"loss @ {s}"))} | non-finite weights | loss scale (first → last) | skipped steps |");
    Console.WriteLine($"|---|{string.Concat(shown.Select(_ => "---:|"))}---|---|---:|");
    foreach (Run run in runs)
    {
        string losses = string.Join(" | ", shown.Select(s => run.Losses[s].ToString("G3", CultureInfo.InvariantCulture)));
        string nonFinite = run.NonFiniteAtStep is long at ? $"from step {at}" : "never";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {run.Name} | {losses} | {nonFinite} | {run.Scales[0]:G6} → {run.Scales[^1]:G6} | {run.Skipped} |"));
    }

    Console.WriteLine();
    foreach (Run run in runs.Where(r => r.Alerts.Count > 0))
    {
        string byKind = string.Join(", ", run.Alerts.GroupBy(a => a.Kind).Select(g => $"{g.Key} {g.Count()}"));
        Console.WriteLine($"{run.Name}: {run.Alerts.Count} alert(s) by kind: {byKind}");
        foreach (GradientAlert alert in run.Alerts
            .Where(a => a.Kind is GradientAlertKind.NonFinite or GradientAlertKind.Vanishing or GradientAlertKind.Precision)
            .GroupBy(a => a.Kind).Select(g => g.First()))
        {
            Console.WriteLine($"  first {alert.Kind} (step {alert.Step}): {alert.Message}");
        }
    }

    return 0;
}
