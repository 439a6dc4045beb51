using System.CommandLine;
using GradientDiagnostics.Samples;

// The README's main demo: a deep sigmoid MLP whose gradients vanish, then the same task with ReLU, He init and
// residual connections, which trains cleanly (an HTML report of each run goes to artifacts/gradient-flow-demo/), then a
// too-small-initialized tanh MLP fixed before step 1: CheckGradientFlow, InitializeForGradientFlow, check again, and
// its training compared with the uninitialized run.
// Usage: dotnet run --project samples/GradientFlowDemo [-- [<steps>]]   (--help lists the arguments)
Argument<int> steps = SampleCommandLine.Steps(new GradientFlowDemo.Settings().Steps, "Training steps per network.");
var root = new RootCommand("A vanishing deep sigmoid MLP, a healthy residual ReLU one, and a tanh MLP fixed before step 1.") { steps };
root.SetAction(parse => GradientFlowDemo.Run(new GradientFlowDemo.Settings { Steps = parse.GetValue(steps) }, Console.Out));
return root.Parse(args).Invoke();
