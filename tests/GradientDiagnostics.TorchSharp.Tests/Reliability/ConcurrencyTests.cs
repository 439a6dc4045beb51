using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using GradientDiagnostics.TorchSharp.Tests.Models;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Reliability;

/// <summary>Issue 9 §5: two models, each with its own monitor and meter, trained on two threads while a third thread
/// reads their metrics: no cross-talk in steps, alerts or metrics.</summary>
public sealed class ConcurrencyTests
{
    private const int Steps = 150;

    [Fact]
    public async Task Two_monitors_on_two_threads_observed_from_a_third_have_no_cross_talk()
    {
        using var factory = new PerMonitorMeterFactory();
        // Per meter: steps, alerts and skipped steps seen by the listener (callbacks run on the training threads).
        var counts = new ConcurrentDictionary<(Meter, string), long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (factory.Owns(instrument.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => counts.AddOrUpdate((instrument.Meter, instrument.Name), value, (_, v) => v + value));
        listener.Start();

        using var faulty = Mlp.Create(depth: 3, 16, Activation.ReLU, Init.He);
        using var healthy = Mlp.Create(depth: 4, 16, Activation.Tanh, Init.Xavier);
        using var faultyMonitor = faulty.AttachGradientMonitor(o => o.Telemetry.MeterFactory = factory);
        Meter faultyMeter = factory.Last!;
        using var healthyMonitor = healthy.AttachGradientMonitor(o => o.Telemetry.MeterFactory = factory);
        Meter healthyMeter = factory.Last!;
        var faultyAlerts = new List<GradientAlert>();
        var healthyAlerts = new List<GradientAlert>();
        faultyMonitor.AlertRaised += (_, a) => faultyAlerts.Add(a);
        healthyMonitor.AlertRaised += (_, a) => healthyAlerts.Add(a);

        using var done = new CancellationTokenSource();
        long observations = 0, regressions = 0;
        using var observing = new ManualResetEventSlim();
        var observer = Task.Factory.StartNew(() =>
        {
            observing.Set();
            long lastSteps = 0;
            while (!done.IsCancellationRequested)
            {
                long steps = counts.GetValueOrDefault((faultyMeter, GradientTelemetryInstruments.Steps));
                regressions += steps < lastSteps ? 1 : 0;
                lastSteps = steps;
                observations++;
                Thread.Yield();
            }
        }, TaskCreationOptions.LongRunning); // its own thread
        Assert.True(observing.Wait(TimeSpan.FromSeconds(30)), "the observer thread did not start");

        // The faulty model gets NaN in its first layer's gradient every 10th step; the healthy one never does.
        Task<List<GradientStepResult>> a = Task.Run(() => Train(faulty, faultyMonitor, seed: 1, poisonEvery: 10));
        Task<List<GradientStepResult>> b = Task.Run(() => Train(healthy, healthyMonitor, seed: 2, poisonEvery: 0));
        List<GradientStepResult>[] runs = await Task.WhenAll(a, b);
        await done.CancelAsync();
        await observer;
        (List<GradientStepResult> faultyRun, List<GradientStepResult> healthyRun) = (runs[0], runs[1]);

        Assert.Equal(Enumerable.Range(0, Steps).Select(i => (long)i), faultyRun.Select(r => r.Step));
        Assert.Equal(Enumerable.Range(0, Steps).Select(i => (long)i), healthyRun.Select(r => r.Step));
        Assert.Equal(faultyMonitor.LayerNames, faultyRun[0].Layers.Select(l => l.Name));
        Assert.Equal(healthyMonitor.LayerNames, healthyRun[0].Layers.Select(l => l.Name));
        Assert.Equal(15, faultyRun.Count(r => r.SkipStep));
        Assert.DoesNotContain(healthyRun, r => r.SkipStep);
        Assert.Equal(15, faultyAlerts.Count(x => x.Kind == GradientAlertKind.NonFinite));
        Assert.DoesNotContain(healthyAlerts, x => x.Kind == GradientAlertKind.NonFinite);
        Assert.All(faultyAlerts, x => Assert.Contains(x.Layer, faultyMonitor.LayerNames.Append(GradientAlert.GlobalLayerName)));

        Assert.Equal(Steps, counts[(faultyMeter, GradientTelemetryInstruments.Steps)]);
        Assert.Equal(Steps, counts[(healthyMeter, GradientTelemetryInstruments.Steps)]);
        Assert.Equal(15, counts[(faultyMeter, GradientTelemetryInstruments.SkippedSteps)]);
        Assert.Equal(0, counts.GetValueOrDefault((healthyMeter, GradientTelemetryInstruments.SkippedSteps)));
        Assert.Equal(faultyAlerts.Count, counts[(faultyMeter, GradientTelemetryInstruments.Alerts)]);
        Assert.Equal(healthyAlerts.Count, counts.GetValueOrDefault((healthyMeter, GradientTelemetryInstruments.Alerts)));
        Assert.True(observations > 0);
        Assert.Equal(0, regressions);
    }

    private static List<GradientStepResult> Train(nn.Module<Tensor, Tensor> model, GradientMonitor monitor, int seed, int poisonEvery)
    {
        var results = new List<GradientStepResult>();
        var generator = new Generator((ulong)seed);
        using var optimizer = optim.SGD(model.parameters(), 1e-3);
        var first = model.parameters().First();
        for (int step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var x = randn([8, 16], generator: generator);
            var loss = model.call(x).square().mean();
            loss.backward();
            if (poisonEvery > 0 && step % poisonEvery == 5)
            {
                using var noGrad = no_grad();
                using var grad = first.grad!;
                grad.view(-1)[0].fill_(double.NaN);
            }

            GradientStepResult result = monitor.Step(loss);
            results.Add(result);
            if (!result.SkipStep)
            {
                optimizer.step();
            }
        }

        return results;
    }

    /// <summary>Gives each monitor a meter of its own, as dependency injection does per service provider.</summary>
    private sealed class PerMonitorMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter? Last { get; private set; }

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            lock (_meters)
            {
                _meters.Add(meter);
            }

            return Last = meter;
        }

        public bool Owns(Meter meter)
        {
            lock (_meters)
            {
                return _meters.Contains(meter);
            }
        }

        public void Dispose()
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
