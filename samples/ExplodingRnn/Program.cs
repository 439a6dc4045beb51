using GradientDiagnostics.Samples;

// A vanilla tanh RNN on the adding problem, trained without and with global-norm clipping.
// Usage: dotnet run --project samples/ExplodingRnn [-- steps]
int steps = args.Length > 0 && int.TryParse(args[0], out int n) ? n : new ExplodingRnn.Settings().Steps;
return ExplodingRnn.Run(new ExplodingRnn.Settings { Steps = steps }, Console.Out);
