using System.CommandLine;
using GradientDiagnostics.Samples.MemoryHorizon;

// A memory task (recall a value seen 40 to T − 1 steps earlier) for a default-initialized LSTM and tanh RNN, then both
// after InitializeForGradientFlow: the memory horizons the monitor measures, its through-time alerts and the losses.
// Example: dotnet run --project samples/MemoryHorizon -- --steps 200 --length 50
var defaults = new MemoryHorizonRun.Settings();
var steps = new Option<int>("--steps") { Description = "Training steps per run.", DefaultValueFactory = _ => defaults.Steps };
var length = new Option<int>("--length")
{
    Description = $"Time steps per sequence (more than {RecallTask.MinLag}).", DefaultValueFactory = _ => defaults.SequenceLength,
};
var hidden = new Option<int>("--hidden") { Description = "Hidden units of the recurrent layer.", DefaultValueFactory = _ => defaults.HiddenSize };
var seed = new Option<int>("--seed") { Description = "Seed of the initialization and the data.", DefaultValueFactory = _ => defaults.Seed };
var root = new RootCommand("Shows how far back a recurrent network's gradient reaches, before and after InitializeForGradientFlow.")
{
    steps, length, hidden, seed,
};
root.SetAction(parse =>
{
    var settings = new MemoryHorizonRun.Settings
    {
        Steps = parse.GetValue(steps),
        SequenceLength = parse.GetValue(length),
        HiddenSize = parse.GetValue(hidden),
        Seed = parse.GetValue(seed),
    };
    if (settings.Steps < 1 || settings.SequenceLength <= RecallTask.MinLag || settings.HiddenSize < 1)
    {
        Console.Error.WriteLine($"--steps and --hidden must be at least 1, and --length more than {RecallTask.MinLag}.");
        return 2;
    }

    return MemoryHorizonReport.Run(settings, Console.Out);
});
return root.Parse(args).Invoke();
