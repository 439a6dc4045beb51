using System.Globalization;
using BenchmarkDotNet.Running;

// One command runs everything (about 15 minutes on 2 cores; iteration counts are set per class, see docs/performance.md):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --filter '*'
// Results land in BenchmarkDotNet.Artifacts/results/. See docs/performance.md.
//
// Benchmarks run in-process: BenchmarkDotNet's out-of-process toolchain regenerates a project that loses
// TorchSharp's native backend (and this repository's libstdc++ compatibility step), so libtorch would not load.
// Ratios are taken within one process and one run, which is what the performance targets compare.
//
// Whole training steps with and without the monitor, paired and interleaved, on every workload (see PairedStepComparison):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired [cycles, default 20] [--warmup steps, default 60]
//     [--workloads a,b:rounds,...] [--diagnose] [--read-control] [--minutes budget] [--path p] [--device d] [--attach-per-cycle]
// Any mode: --no-read-ahead, --read-threads n (below). Any mode: --torch-threads n sets libtorch's intra-op threads first (torch.set_num_threads), e.g. 1 to leave a core
// free for the monitor's parallel read.
// The probes' cost (on by default), one model per variant, paired the same way (see PairedProbeComparison):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-probes [cycles, default 30] [--workloads a,b:rounds,...]
string? Value(string option) => Array.IndexOf(args, option) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
int? Count(int position) => args.Length > position && int.TryParse(args[position], CultureInfo.InvariantCulture, out int n) ? n : null;

if (Value("--torch-threads") is string torchThreads)
{
    TorchSharp.torch.set_num_threads(int.Parse(torchThreads, CultureInfo.InvariantCulture));
}

// Any mode: --no-read-ahead turns the statistics pass's prefetch hint off (GradientDiagnostics.ReadAhead), its control;
// --read-threads n makes every large CPU read use n threads, whatever libtorch's threads leave free.
if (args.Contains("--no-read-ahead"))
{
    GradientDiagnostics.ReadAhead.Enabled = false;
}

if (Value("--read-threads") is string readThreads)
{
    GradientDiagnostics.TorchSharp.TensorStatisticsCollector.ReadThreadsOverride = int.Parse(readThreads, CultureInfo.InvariantCulture);
}

// Any paired mode: --device cuda puts the models on the GPU (a CUDA build of TorchSharp is needed, see docs/performance.md);
// --path managed|device|float64 picks the read path (GradientPath): device forces the device path on CPU tensors (the
// AppContext switch GradientDiagnostics.TorchSharp.UseDevicePathOnCpu), float64 measures a float64 copy of the model.
GradientDiagnostics.Benchmarks.BenchmarkDevice.Select(Value("--device"));
var path = GradientDiagnostics.Benchmarks.GradientPath.Parse(Value("--path"));
string[]? workloads = Value("--workloads")?.Split(',');
double? minutes = Value("--minutes") is string budget ? double.Parse(budget, CultureInfo.InvariantCulture) : null;
int warmup = int.Parse(Value("--warmup") ?? "60", CultureInfo.InvariantCulture);

if (args.Length > 0 && args[0] == "--paired")
{
    GradientDiagnostics.Benchmarks.PairedStepComparison.Run(
        Count(1) ?? 20,
        warmup,
        workloads ?? GradientDiagnostics.Benchmarks.Workload.All,
        args.Contains("--diagnose"),
        args.Contains("--read-control"),
        minutes,
        path,
        args.Contains("--attach-per-cycle"));
    return;
}

// The default options' whole-step bound (≤ 1.02× the plain step on the compute-bound workloads (c), (d), (a) at batch
// 512): --paired with those workloads, the monitor at default options attached only for its own cycles:
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-defaults [cycles, default 60]
// The recurrent time profile's bound (≤ 1.05× on a 2-layer LSTM, hidden 256, sequence 100, batch 16: workload d_lstm),
// the same way:
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-lstm [cycles, default 200]
if (args.Length > 0 && args[0] is "--paired-defaults" or "--paired-lstm")
{
    bool lstm = args[0] == "--paired-lstm";
    GradientDiagnostics.Benchmarks.PairedStepComparison.Run(
        Count(1) ?? (lstm ? 200 : 60),
        warmup,
        workloads ?? (lstm ? ["d_lstm"] : ["c_cnn:300", "d_lstm:200", "a_mlp_50x512_batch512"]),
        diagnose: false,
        readControl: false,
        minutes,
        path,
        attachPerCycle: true);
    return;
}

// The device path's acceptance figures in one run (see DevicePathRun): clipping on the managed, forced-device and
// float64 paths, and mixed precision on the forced device path, on e_mlp_100x512 and f_mlp_10x1024:
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --device-path [rounds, default 60]
if (args.Length > 0 && args[0] == "--device-path")
{
    string[] passOn = [.. new[] { "--device", "--torch-threads" }.Where(o => Value(o) is not null).SelectMany(o => new[] { o, Value(o)! })];
    GradientDiagnostics.Benchmarks.DevicePathRun.Run(Count(1) ?? 60, workloads ?? GradientDiagnostics.Benchmarks.DevicePathRun.Workloads, passOn);
    return;
}

if (args.Length > 0 && args[0] == "--paired-through-time")
{
    GradientDiagnostics.Benchmarks.PairedThroughTimeComparison.Run(Count(1) ?? 10);
    return;
}

// Step() timed alone, by step kind (cheap, full), with default options and without probes (see StepKindTiming):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --step-kinds [steps, default 200] [--workloads a,b]
if (args.Length > 0 && args[0] == "--step-kinds")
{
    GradientDiagnostics.Benchmarks.StepKindTiming.Run(Count(1) ?? 200, Value("--workloads")?.Split(',') ?? ["a_mlp_50x512_batch512"]);
    return;
}

if (args.Length > 0 && args[0] == "--paired-probes")
{
    GradientDiagnostics.Benchmarks.PairedProbeComparison.Run(Count(1) ?? 30, Value("--workloads")?.Split(',') ?? ["a_mlp_50x512"]);
    return;
}

// ByGlobalNorm against clip_grad_norm_ on (a) and (b), paired round by round (see PairedClippingComparison):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-clipping [rounds, default 200]
if (args.Length > 0 && args[0] == "--paired-clipping")
{
    GradientDiagnostics.Benchmarks.PairedClippingComparison.Run(Count(1) ?? 200, path, workloads);
    return;
}

// The mixed-precision Step() against a GradScaler-style reference written with TorchSharp ops (see PairedMixedPrecisionComparison):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired-mixed-precision [rounds, default 100]
if (args.Length > 0 && args[0] == "--paired-mixed-precision")
{
    GradientDiagnostics.Benchmarks.PairedMixedPrecisionComparison.Run(Count(1) ?? 100, path, workloads);
    return;
}

// Whether managed work between libtorch calls (a thread-pool read, a tiny monitor's Step()) slows the next libtorch work:
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --thread-interference [rounds, default 200]
if (args.Length > 0 && args[0] == "--thread-interference")
{
    GradientDiagnostics.Benchmarks.ThreadInterference.Run(Count(1) ?? 200);
    return;
}

// The floor of clipping (a) when it acts: one read plus one read-and-write of every gradient (see ReadFloor):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --read-floor [rounds, default 200]
if (args.Length > 0 && args[0] == "--read-floor")
{
    GradientDiagnostics.Benchmarks.ReadFloor.Run(Count(1) ?? 200);
    return;
}

// Recovery and NaN-origin costs on (a): snapshot capture/restore time and size, and the paired whole-step cost of
// NonFinite.TraceOrigin and EnableRecovery (see RecoveryCost and docs/reliability.md):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --recovery [cycles, default 30]
if (args.Length > 0 && args[0] == "--recovery")
{
    GradientDiagnostics.Benchmarks.RecoveryCost.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30);
    return;
}

string[] arguments = args.Contains("--inProcess") ? args : [.. args, "--inProcess"];
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(arguments);
