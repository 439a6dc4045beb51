using System.CommandLine;
using GradientDiagnostics.Samples;

// A vanilla tanh RNN on the adding problem, trained without and with global-norm clipping.
// Usage: dotnet run --project samples/ExplodingRnn [-- [<steps>]]   (--help lists the arguments)
Argument<int> steps = SampleCommandLine.Steps(new ExplodingRnn.Settings().Steps);
var root = new RootCommand("A tanh RNN on the adding problem explodes without clipping and trains with ByGlobalNorm.") { steps };
root.SetAction(parse => ExplodingRnn.Run(new ExplodingRnn.Settings { Steps = parse.GetValue(steps) }, Console.Out));
return root.Parse(args).Invoke();
