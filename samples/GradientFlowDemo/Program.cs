using GradientDiagnostics.Samples;

// The README's main demo: a deep sigmoid MLP whose gradients vanish, then the same task with ReLU, He init and
// residual connections, which trains cleanly, and writes an HTML report of each run to artifacts/gradient-flow-demo/.
// Usage: dotnet run --project samples/GradientFlowDemo [-- steps]
int steps = args.Length > 0 && int.TryParse(args[0], out int n) ? n : 300;
return GradientFlowDemo.Run(new GradientFlowDemo.Settings { Steps = steps }, Console.Out);
