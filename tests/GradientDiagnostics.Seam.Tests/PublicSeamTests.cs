using System.Reflection;
using System.Runtime.CompilerServices;

namespace GradientDiagnostics.Seam.Tests;

/// <summary>A second adapter, on public members only, drives the whole core: detectors, clipping through its own target,
/// telemetry through its own observer, and its faults to the self-log.</summary>
public sealed class PublicSeamTests
{
    [Fact]
    public void This_adapter_compiles_without_internals_visible_to()
    {
        string[] granted = [.. typeof(GradientAnalyzer).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName)];

        Assert.NotEmpty(granted);
        Assert.DoesNotContain(typeof(PublicSeamTests).Assembly.GetName().Name, granted);
    }

    [Fact]
    public void The_torchsharp_adapter_is_granted_no_internals_either()
    {
        string[] granted = [.. typeof(GradientAnalyzer).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName)];

        Assert.Contains("GradientDiagnostics.Tests", granted);
        Assert.DoesNotContain("GradientDiagnostics.TorchSharp", granted);
    }

    [Fact]
    public void Analyze_with_a_target_clips_the_adapters_own_gradients_in_place()
    {
        var network = new ArrayNetwork(depth: 4, width: 16, ActivationKind.ReLU, weightStd: Math.Sqrt(2.0 / 16), seed: 3);
        using var monitor = new ArrayNetworkMonitor(network, o => o.Clipping = GradientClipping.ByGlobalNorm(1e-3));

        float loss = network.Backward();
        GradientStepResult result = monitor.Step(loss);

        double after = Math.Sqrt(network.Gradients.Sum(g => g.Sum(x => (double)x * x)));
        Assert.True(result.ClippingActed);
        Assert.True(result.NormBeforeClipping > 1e-2, $"before {result.NormBeforeClipping}");
        Assert.Equal(1e-3, after, 1e-6);
        Assert.Equal(after, result.NormAfterClipping!.Value, 1e-6);
        Assert.Equal(1, monitor.Target.Scales);
        Assert.All(result.Layers, l => Assert.Equal(Math.Sqrt(network.Gradients[l.Index].Sum(x => (double)x * x)), l.GradientNormAfterClipping!.Value, 1e-7));
    }

    [Fact]
    public void Detectors_run_on_the_adapters_observations_and_alerts_reach_subscribers()
    {
        var network = new ArrayNetwork(depth: 12, width: 16, ActivationKind.Sigmoid, weightStd: Math.Sqrt(2.0 / 32), seed: 4);
        using var monitor = new ArrayNetworkMonitor(network);
        var raised = new List<(object? Sender, GradientAlert Alert)>();
        monitor.Analyzer.AlertRaised += (sender, alert) => raised.Add((sender, alert));

        for (int step = 0; step < 3; step++)
        {
            float loss = network.Backward();
            monitor.Step(loss);
            network.Sgd(0.01f);
        }

        (object? sender, GradientAlert depth) = Assert.Single(raised, r => r.Alert.Metric == GradientMetricNames.DepthGainOverDepth);
        Assert.Same(monitor.Analyzer, sender);
        Assert.Equal(GradientAlertKind.Vanishing, depth.Kind);
        Assert.True(depth.Value < 1e-4, $"g^depth = {depth.Value}");
    }

    [Fact]
    public void A_non_finite_step_is_skipped_and_its_gradients_are_left_untouched()
    {
        var network = new ArrayNetwork(depth: 3, width: 8, ActivationKind.ReLU, weightStd: 0.5, seed: 5);
        using var monitor = new ArrayNetworkMonitor(network, o => o.Clipping = GradientClipping.ByGlobalNorm(1e-3));

        float loss = network.Backward(lossScale: float.PositiveInfinity);
        float[][] before = [.. network.Gradients.Select(g => g.ToArray())];
        GradientStepResult result = monitor.Step(loss);

        Assert.True(result.SkipStep);
        Assert.Contains(result.Alerts, a => a.Kind == GradientAlertKind.NonFinite);
        Assert.Equal(0, monitor.Target.Scales);
        Assert.Equal(before, network.Gradients);
    }

    [Fact]
    public void The_adapters_step_observer_receives_every_step_and_a_failing_one_goes_to_the_self_log()
    {
        var network = new ArrayNetwork(depth: 2, width: 8, ActivationKind.ReLU, weightStd: 0.5, seed: 6);
        using var monitor = new ArrayNetworkMonitor(network);
        var observer = new RecordingObserver();
        var failing = new RecordingObserver { Throw = true };
        monitor.Analyzer.AddStepObserver(observer);
        monitor.Analyzer.AddStepObserver(failing);
        var selfLog = new List<string>();
        GradientSelfLog.Enable(line => { lock (selfLog) { selfLog.Add(line); } });
        try
        {
            for (int step = 0; step < 3; step++)
            {
                monitor.Step(network.Backward());
            }

            // An adapter reports its own faults where the core reports its: one place for self-diagnostics.
            GradientSelfLog.Write("the array adapter's test fault", new InvalidOperationException("seam"));
        }
        finally
        {
            GradientSelfLog.Disable();
        }

        Assert.Equal([0L, 1, 2], observer.Steps);
        Assert.Equal([0L], failing.Steps);
        Assert.True(failing.Disposed);
        lock (selfLog)
        {
            Assert.Contains(selfLog, l => l.Contains(nameof(RecordingObserver), StringComparison.Ordinal));
            Assert.Contains(selfLog, l => l.StartsWith("GradientDiagnostics: ", StringComparison.Ordinal) && l.Contains("test fault", StringComparison.Ordinal) && l.Contains("seam", StringComparison.Ordinal));
        }
    }

    private sealed class RecordingObserver : IGradientStepObserver
    {
        public bool Throw { get; init; }

        public List<long> Steps { get; } = [];

        public bool Disposed { get; private set; }

        public void OnStep(GradientStepResult result, double overheadSeconds)
        {
            Steps.Add(result.Step);
            if (Throw)
            {
                throw new IOException("output broken");
            }
        }

        public void Dispose() => Disposed = true;
    }
}
