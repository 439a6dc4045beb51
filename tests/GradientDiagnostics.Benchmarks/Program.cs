using BenchmarkDotNet.Running;

// One command runs everything (about 15 minutes on 2 cores; iteration counts are set per class, see docs/performance.md):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --filter '*'
// Results land in BenchmarkDotNet.Artifacts/results/. See docs/performance.md.
//
// Benchmarks run in-process: BenchmarkDotNet's out-of-process toolchain regenerates a project that loses
// TorchSharp's native backend (and this repository's libstdc++ compatibility step), so libtorch would not load.
// Ratios are taken within one process and one run, which is what the performance targets compare.
//
// A paired, interleaved comparison of step variants on (a), for differences too small for the run above on a shared
// machine (see PairedStepComparison):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --paired [cycles, default 30]
if (args.Length > 0 && args[0] == "--paired")
{
    GradientDiagnostics.Benchmarks.PairedStepComparison.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30);
    return;
}

// The floor of clipping (a) when it acts: one read plus one read-and-write of every gradient (see ReadFloor):
//   dotnet run -c Release --project tests/GradientDiagnostics.Benchmarks -- --read-floor [rounds, default 200]
if (args.Length > 0 && args[0] == "--read-floor")
{
    GradientDiagnostics.Benchmarks.ReadFloor.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200);
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
