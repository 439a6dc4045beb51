#!/usr/bin/env python3
"""Derives the performance targets' figures (ratios of medians, µs per tensor, bytes per step) from one
BenchmarkDotNet run, as printed in docs/performance.md: medians of the per-iteration WorkloadResult lines of the run's
log (BenchmarkDotNet's Median column is only shown when it differs from the mean), allocation from its *-report.csv.

Usage: python3 tests/GradientDiagnostics.Benchmarks/summarize-results.py [directory holding the CSVs and the log]
(default: BenchmarkDotNet.Artifacts/results, with the log one level up)."""
import csv
import glob
import os
import re
import statistics
import sys

TIME = {"ns": 1e-6, "us": 1e-3, "μs": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3}
SIZE = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


def ms(text):
    value, unit = text.replace(",", "").split()
    return float(value) * TIME[unit]


def size(text):
    if text in ("-", ""):
        return 0.0
    value, unit = text.replace(",", "").split()
    return float(value) * SIZE[unit]


BENCHMARK = re.compile(r"^// Benchmark: (\w+)\.'?(.+?)'?: .*\[Workload=(.+)\]$")
RESULT = re.compile(r"^WorkloadResult\s+\d+: .*, ([\d.]+) (\S+)/op")


WORKLOADS = ["a_mlp_50x128", "a_mlp_50x256", "a_mlp_50x512", "a_mlp_50x512_batch512", "b_mlp_100x64", "b_mlp_250x64",
             "b_mlp_500x64", "b_flat_1x1442", "c_cnn", "d_lstm"]


def canonical(workload):
    """BenchmarkDotNet shortens long parameter values ("a_mlp(...)ch512 [21]"); map them back to the workload name."""
    if "(...)" not in workload:
        return workload
    head, tail = workload.split(" [")[0].split("(...)")
    return next(w for w in WORKLOADS if w.startswith(head) and w.endswith(tail))


def medians(directory):
    """(class, method, workload) -> median ms/op over the run's WorkloadResult lines."""
    logs = glob.glob(os.path.join(directory, "BenchmarkRun-*.log")) + glob.glob(os.path.join(directory, "..", "BenchmarkRun-*.log"))
    results, current = {}, None
    with open(sorted(logs)[-1], encoding="utf-8") as f:
        for line in f:
            match = BENCHMARK.match(line)
            if match:
                current = (match.group(1), match.group(2), canonical(match.group(3)))
                results[current] = []
                continue
            match = RESULT.match(line)
            if match and current:
                results[current].append(float(match.group(1)) * TIME[match.group(2)])
    return {key: statistics.median(values) for key, values in results.items() if values}


def load(directory, name, times):
    rows = {}
    for path in glob.glob(os.path.join(directory, f"*{name}-report.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                method, workload = row["Method"].strip("'"), canonical(row["Workload"])
                row["MedianMs"] = times[(name, method, workload)]
                rows[(method, workload)] = row
    return rows


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "BenchmarkDotNet.Artifacts/results"
    times = medians(directory)
    steps, probes = load(directory, "TrainingStepBenchmarks", times), load(directory, "LayerOutputProbeBenchmarks", times)
    stats, clip = load(directory, "StatisticsBenchmarks", times), load(directory, "ClippingBenchmarks", times)
    median = lambda rows, method, workload: rows[(method, workload)]["MedianMs"]
    allocated = lambda rows, method, workload: size(rows[(method, workload)]["Allocated"])

    print("| workload | plain step (ms) | monitored step (ms) | step ratio | added (ms) | clip_grad_norm_ (ms) | added / clip_grad_norm_ | monitor bytes/step |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for workload in ["a_mlp_50x512", "b_mlp_500x64", "c_cnn", "d_lstm", "a_mlp_50x512_batch512"]:
        if ("plain step", workload) not in steps:
            continue
        plain, monitored = median(steps, "plain step", workload), median(steps, "step + monitor", workload)
        clip_workload = workload.replace("_batch512", "")
        clip_ms = median(stats, "clip_grad_norm_", clip_workload) if ("clip_grad_norm_", clip_workload) in stats else float("nan")
        extra = allocated(steps, "step + monitor", workload) - allocated(steps, "plain step", workload)
        print(f"| {workload} | {plain:.2f} | {monitored:.2f} | {monitored / plain:.3f} | {monitored - plain:.2f} | {clip_ms:.2f} | "
              f"{(monitored - plain) / clip_ms:.2f} | {extra:,.0f} |")

    if probes:
        w = "a_mlp_50x512"
        plain = median(probes, "plain step", w)
        monitored = median(probes, "step + monitor", w)
        full = median(probes, "step + monitor, full every step", w)
        probed_full = median(probes, "step + monitor + CaptureLayerOutputs, full every step", w)
        print()
        print("| (a), per step | median (ms) | / plain step | added on top of default monitoring, / plain step |")
        print("|---|---:|---:|---:|")
        for method in ["plain step", "step + monitor", "step + monitor + CaptureLayerOutputs", "step + monitor, full every step",
                       "step + monitor + CaptureLayerOutputs, full every step"]:
            m = median(probes, method, w)
            print(f"| {method} | {m:.2f} | {m / plain:.3f} | {(m - monitored) / plain:+.1%} |")
        probe = probed_full - full
        print()
        print(f"Probes' own cost on a full step (full every step, with minus without probes): {probe:.2f} ms = {probe / plain:.1%} "
              f"of the plain step; at the default cadence (1 full step in 20): {probe / 20:.2f} ms = {probe / 20 / plain:.2%} per step")

    print()
    print("| workload | clip_grad_norm_ (ms) | monitor statistics (ms) | / clip_grad_norm_ | read pass (ms) | kernel (ms) | kernel / read pass | monitor bytes/call |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for workload in ["a_mlp_50x128", "a_mlp_50x256", "a_mlp_50x512", "b_mlp_100x64", "b_mlp_250x64", "b_mlp_500x64", "b_flat_1x1442", "c_cnn", "d_lstm"]:
        if ("clip_grad_norm_", workload) not in stats:
            continue
        c, m = median(stats, "clip_grad_norm_", workload), median(stats, "monitor statistics", workload)
        r, k = median(stats, "one read pass (sum)", workload), median(stats, "statistics kernel (flat)", workload)
        print(f"| {workload} | {c:.3f} | {m:.3f} | {m / c:.2f} | {r:.3f} | {k:.3f} | {k / r:.2f} | {allocated(stats, 'monitor statistics', workload):,.0f} |")

    if ("monitor statistics", "b_flat_1x1442") in stats:
        many, few = median(stats, "monitor statistics", "b_mlp_500x64"), median(stats, "monitor statistics", "b_flat_1x1442")
        print()
        print(f"Fixed cost per parameter tensor on (b): ({many:.3f} ms - {few:.3f} ms) / 998 = {(many - few) / 998 * 1000:.2f} µs "
              f"(all-in: {many / 1000 * 1000:.2f} µs per tensor)")

    if clip:
        print()
        print("| workload | clip_grad_norm_ acting (ms) | ByGlobalNorm acting (ms) | ratio | clip_grad_norm_ not acting (ms) | ByGlobalNorm not acting (ms) | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for workload in ["a_mlp_50x512", "b_mlp_500x64"]:
            ca, ba = median(clip, "clip_grad_norm_ (acting)", workload), median(clip, "ByGlobalNorm step (acting)", workload)
            cn, bn = median(clip, "clip_grad_norm_ (not acting)", workload), median(clip, "ByGlobalNorm step (not acting)", workload)
            print(f"| {workload} | {ca:.2f} | {ba:.2f} | {ba / ca:.2f} | {cn:.2f} | {bn:.2f} | {bn / cn:.2f} |")


if __name__ == "__main__":
    main()
