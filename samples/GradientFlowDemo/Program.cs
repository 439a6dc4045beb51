using GradientDiagnostics.Samples;

// The README's main demo: a deep sigmoid MLP whose gradients vanish, then the same task with ReLU, He init and
// residual connections, which trains cleanly (an HTML report of each run goes to artifacts/gradient-flow-demo/), then a
// too-small-initialized tanh MLP fixed before step 1: CheckGradientFlow, InitializeForGradientFlow, check again, and
// its training compared with the uninitialized run.
// Usage: dotnet run --project samples/GradientFlowDemo [-- steps]
int steps = args.Length > 0 && int.TryParse(args[0], out int n) ? n : 300;
return GradientFlowDemo.Run(new GradientFlowDemo.Settings { Steps = steps }, Console.Out);
