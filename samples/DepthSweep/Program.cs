using System.CommandLine;
using System.Globalization;
using GradientDiagnostics.Samples.DepthSweep;
using Spectre.Console;

// Sweeps depth × activation × init and shows, with the monitor's own measurements, how gradients vanish or
// explode with depth, beside the mean-field theory. Example:
//   dotnet run --project samples/DepthSweep -- --depths 2 5 10 20 50 --width 256 --markdown docs/depth-sweep.md
var depths = new Option<int[]>("--depths") { Description = "Network depths (Linear layers).", DefaultValueFactory = _ => [2, 5, 10, 20, 50], AllowMultipleArgumentsPerToken = true };
var activations = new Option<ActivationChoice[]>("--activations") { Description = "Activations: Sigmoid, Tanh, ReLU.", DefaultValueFactory = _ => [ActivationChoice.Sigmoid, ActivationChoice.Tanh, ActivationChoice.ReLU], AllowMultipleArgumentsPerToken = true };
var inits = new Option<InitKind[]>("--inits") { Description = "Inits: Default (TorchSharp's), Xavier, He, He2x.", DefaultValueFactory = _ => [InitKind.Default, InitKind.Xavier, InitKind.He, InitKind.He2x], AllowMultipleArgumentsPerToken = true };
var width = new Option<int>("--width") { Description = "Units per layer (theory holds for wide layers; ≥ 128).", DefaultValueFactory = _ => 256 };
var batch = new Option<int>("--batch") { Description = "Examples per batch.", DefaultValueFactory = _ => 128 };
var seeds = new Option<int>("--seeds") { Description = "Seeds per configuration, averaged geometrically.", DefaultValueFactory = _ => 3 };
var steps = new Option<int>("--steps") { Description = "Monitored SGD steps per seed (alerts need a few).", DefaultValueFactory = _ => 5 };
var markdown = new Option<FileInfo?>("--markdown") { Description = "Also write the table as Markdown to this file." };

var root = new RootCommand("Measures vanishing and exploding gradients across depth, activation and init with GradientDiagnostics.")
{
    depths, activations, inits, width, batch, seeds, steps, markdown,
};
root.SetAction(parse =>
{
    var settings = new SweepSettings
    {
        Depths = parse.GetValue(depths)!,
        Activations = parse.GetValue(activations)!,
        Inits = parse.GetValue(inits)!,
        Width = parse.GetValue(width),
        BatchSize = parse.GetValue(batch),
        Seeds = parse.GetValue(seeds),
        Steps = parse.GetValue(steps),
    };
    if (settings.Depths.Any(d => d < 2) || settings.Width < 1 || settings.BatchSize < 1 || settings.Seeds < 1 || settings.Steps < 1)
    {
        AnsiConsole.MarkupLine("[red]Depths must be ≥ 2, and width, batch, seeds and steps ≥ 1.[/]");
        return 2;
    }

    return SweepConsole.Run(settings, parse.GetValue(markdown), "dotnet run --project samples/DepthSweep -- " + string.Join(' ', args), AnsiConsole.Console);
});
return root.Parse(args).Invoke();
