// Telemetry demo: trains a deep sigmoid MLP (its gradients vanish towards the input), with one corrupt batch, and
// exports what the gradient monitor sees through every channel the library offers:
//   - metrics on the "GradientDiagnostics" meter, exported by the OpenTelemetry console exporter, or with
//     --prometheus PORT served for Prometheus to scrape at http://127.0.0.1:PORT/metrics (loopback only);
//   - the same meter read live, with no exporter, by `dotnet-counters monitor -p PID --counters GradientDiagnostics`
//     (docs/telemetry.md#dotnet-counters);
//   - alerts and a summary line every 50 steps in the console log;
//   - a JSON Lines file of the run, a TensorBoard event file, and the self-contained HTML report.
//
//   dotnet run --project samples/Telemetry [-- [<steps> [<output directory>]] [--prometheus PORT] [--step-delay MS]]
//   (--help lists the arguments)
//
// --step-delay MS pauses after each step: this demo's steps take about a millisecond, so without it a short run can
// end between two scrapes, and rate() over it has no increase to show (a real training step takes far longer).
//
// With --prometheus the sample keeps serving its metrics after training until Enter is pressed (or its input ends),
// so that a Prometheus server scraping it (docs/telemetry.md has a config) holds the whole run. The OpenTelemetry
// packages are this sample's dependencies, never the libraries'. In an ASP.NET Core host use
// OpenTelemetry.Exporter.Prometheus.AspNetCore with AddPrometheusExporter() and app.MapPrometheusScrapingEndpoint(),
// and pass the host's IMeterFactory to o.Telemetry.MeterFactory.
using System.CommandLine;
using GradientDiagnostics;
using GradientDiagnostics.Samples;
using GradientDiagnostics.TorchSharp;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using static TorchSharp.torch;

Argument<int> stepsArgument = SampleCommandLine.Steps(300);
var outputArgument = new Argument<string>("output")
{
    Description = "The directory the JSON Lines, TensorBoard and HTML files go to.",
    DefaultValueFactory = _ => "telemetry-output",
};
var prometheusOption = new Option<int?>("--prometheus")
{
    Description = "Serve the metrics for Prometheus at http://127.0.0.1:PORT/metrics (loopback only) instead of the console exporter.",
    HelpName = "PORT",
}.InRange(1, 65535);
var stepDelayOption = new Option<int>("--step-delay") { Description = "Pause after each step, in milliseconds.", HelpName = "MS", DefaultValueFactory = _ => 0 }
    .AtLeast(0);
var root = new RootCommand("Trains a 16-layer sigmoid MLP and exports what the gradient monitor sees through every telemetry channel.")
{
    stepsArgument, outputArgument, prometheusOption, stepDelayOption,
};
root.SetAction(parse => Train(parse.GetValue(stepsArgument), Path.GetFullPath(parse.GetValue(outputArgument)!), parse.GetValue(prometheusOption),
    parse.GetValue(stepDelayOption)));
return root.Parse(args).Invoke();

static int Train(int steps, string output, int? prometheusPort, int stepDelay)
{
    Directory.CreateDirectory(output);
    MeterProviderBuilder metersBuilder = Sdk.CreateMeterProviderBuilder().AddMeter(GradientTelemetryInstruments.MeterName);
    metersBuilder = prometheusPort is int scrapePort
        ? metersBuilder.AddPrometheusHttpListener(o =>
        {
            o.Host = "127.0.0.1"; // loopback only: the endpoint has no authentication
            o.Port = scrapePort;
        })
        : metersBuilder.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000);
    using MeterProvider meters = metersBuilder.Build();
    if (prometheusPort is not null)
    {
        Console.WriteLine($"Prometheus endpoint: http://127.0.0.1:{prometheusPort}/metrics");
    }

    using var loggerFactory = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true));

    manual_seed(1);
    using var model = DeepSigmoidMlp(depth: 16, width: 64);
    using var optimizer = optim.SGD(model.parameters(), 0.1);
    string jsonLines = Path.Combine(output, "run.jsonl");
    using (var monitor = model.AttachGradientMonitor(
        o =>
        {
            o.CaptureLayerOutputs = true; // the depth profile: ‖∂L/∂y‖ per layer on full-statistics steps
            o.Telemetry.PerLayerMetrics = true; // gradient_diagnostics.layer.gradient_norm, tagged with the layer
            o.Telemetry.SummaryInterval = 50;
            o.Telemetry.ExportInterval = 10;
            o.Telemetry.JsonLinesPath = jsonLines;
            o.Telemetry.TensorBoardLogDirectory = Path.Combine(output, "tensorboard");
        },
        loggerFactory.CreateLogger("Gradients")))
    {
        var generator = new TorchSharp.torch.Generator(7);
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var x = randn([32, 64], generator: generator);
            if (step == steps * 2 / 3)
            {
                x[0, 0] = tensor(float.NaN); // one corrupt sample: the monitor must say "skip" and keep the weights finite
            }

            var loss = nn.functional.mse_loss(model.call(x), x[.., ..4].sum(1, keepdim: true).sin());
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            if (!result.SkipStep)
            {
                optimizer.step();
            }

            if (stepDelay > 0)
            {
                Thread.Sleep(stepDelay);
            }
        }

        string live = Path.Combine(output, "report.html");
        monitor.CreateReport("16-layer sigmoid MLP").Save(live);
        Console.WriteLine($"HTML report (live monitor): {live}");
    }

    // The same report, offline, from the JSON Lines file (streamed into bounded memory).
    string offline = Path.Combine(output, "report-from-jsonl.html");
    GradientReport.FromJsonLines(jsonLines).Save(offline);
    GradientRun run = GradientRun.Load(jsonLines);
    Console.WriteLine($"JSON Lines: {jsonLines} ({run.Steps.Count} steps, {run.Steps.Sum(s => s.Alerts.Count)} alerts); report from it: {offline}");
    Console.WriteLine($"TensorBoard: tensorboard --logdir {Path.Combine(output, "tensorboard")}");
    if (prometheusPort is not null)
    {
        Console.WriteLine("Training done; serving the metrics until Enter is pressed or the input ends.");
        Console.ReadLine();
    }

    meters.ForceFlush();
    return 0;
}

static nn.Module<Tensor, Tensor> DeepSigmoidMlp(int depth, int width)
{
    var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
    for (int i = 0; i < depth - 1; i++)
    {
        layers.Add(($"fc{i}", nn.Linear(width, width)));
        layers.Add(($"act{i}", nn.Sigmoid()));
    }

    layers.Add(("head", nn.Linear(width, 1)));
    return nn.Sequential(layers);
}
