#:package GradientDiagnostics.TorchSharp@0.1.0
#:package TorchSharp-cpu@0.107.0
#:package Microsoft.Extensions.Logging.Console@10.0.0

// One file, no project: `dotnet run quickstart.cs` (.NET 10; the #:package lines above are its dependencies).
// A 12-layer sigmoid MLP whose gradients vanish towards the input: the monitor says so in the log, clips each step
// and keeps a NaN/Inf step away from the weights; the run ends with an HTML report.
using GradientDiagnostics;
using GradientDiagnostics.TorchSharp;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

using var loggerFactory = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true));
var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
for (int i = 0; i < 11; i++)
{
    layers.Add(($"fc{i}", nn.Linear(32, 32)));
    layers.Add(($"act{i}", nn.Sigmoid()));
}

layers.Add(("head", nn.Linear(32, 1)));
using var model = nn.Sequential(layers);
using var optimizer = optim.SGD(model.parameters(), 0.05);
using var monitor = model.AttachGradientMonitor(
    o => o.Clipping = GradientClipping.ByGlobalNorm(1.0),   // layer outputs are probed by default: the depth profile in the report
    loggerFactory.CreateLogger("Gradients"));
int alerts = 0;
monitor.AlertRaised += (_, alert) => alerts++;   // every alert is also logged above, with its evidence and fixes

for (int step = 0; step < 100; step++)
{
    using var scope = NewDisposeScope();
    optimizer.zero_grad();
    var x = randn(16, 32);
    var loss = nn.functional.mse_loss(model.call(x), x[.., ..1].sin());
    loss.backward();
    var result = monitor.Step(loss);          // statistics, detectors, alerts, then clipping in place
    if (!result.SkipStep) optimizer.step();   // never apply a NaN/Inf step
    if (step % 33 == 0 || step == 99) Console.WriteLine($"step {result.Step}: global norm {result.GlobalNorm:G3} -> {result.NormAfterClipping:G3}");
}

monitor.CreateReport("quick start: 12-layer sigmoid MLP").Save("quickstart-report.html");
Console.WriteLine($"{alerts} alerts; report: {Path.GetFullPath("quickstart-report.html")}");
