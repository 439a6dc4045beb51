using GradientDiagnostics.TorchSharp.Tests.Models;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Reliability;

/// <summary>Issue 9 §2: a throwing <c>AlertRaised</c> subscriber and a throwing logger never escape <c>Step()</c>, are
/// reported once through <see cref="GradientSelfLog"/>, and monitoring goes on. Runs alone: the self-log is process-wide.</summary>
[Collection(nameof(UserCodeFaultTests))]
[CollectionDefinition(nameof(UserCodeFaultTests), DisableParallelization = true)]
public sealed class UserCodeFaultTests
{
    private const int Steps = 6;

    [Fact]
    public void A_throwing_subscriber_never_escapes_step_is_self_logged_once_and_other_subscribers_keep_receiving_alerts()
    {
        string marker = $"subscriber failure {Guid.NewGuid()}";
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor();
        int throwingCalls = 0, healthyCalls = 0;
        monitor.AlertRaised += (_, _) => { throwingCalls++; throw new InvalidOperationException(marker); };
        monitor.AlertRaised += (_, _) => healthyCalls++;

        (List<string> selfLog, int alerts) = RunWithFaults(model, monitor);

        Assert.Equal(Steps, alerts); // a new source every step: one NonFinite alert per step
        Assert.Equal(Steps, throwingCalls);
        Assert.Equal(Steps, healthyCalls);
        string line = Assert.Single(selfLog, l => l.Contains(marker, StringComparison.Ordinal));
        Assert.Contains("AlertRaised subscriber", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_throwing_logger_never_escapes_step_is_self_logged_once_and_alerts_are_still_raised()
    {
        string marker = $"logger failure {Guid.NewGuid()}";
        var logger = new ThrowingLogger(marker);
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(logger: logger);
        int raised = 0;
        monitor.AlertRaised += (_, _) => raised++;

        (List<string> selfLog, int alerts) = RunWithFaults(model, monitor);

        Assert.Equal(Steps, alerts);
        Assert.Equal(Steps, raised);
        // The logger is still tried at every alert (a default attach has no notice to log); its failures are not re-reported.
        Assert.Equal(Steps, logger.Calls);
        string line = Assert.Single(selfLog, l => l.Contains(marker, StringComparison.Ordinal));
        Assert.Contains("logger threw", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_throwing_subscriber_and_a_throwing_logger_together_are_each_self_logged_once()
    {
        string marker = Guid.NewGuid().ToString();
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(logger: new ThrowingLogger("logger " + marker));
        monitor.AlertRaised += (_, _) => throw new InvalidOperationException("subscriber " + marker);

        (List<string> selfLog, int alerts) = RunWithFaults(model, monitor);

        Assert.Equal(Steps, alerts);
        Assert.Single(selfLog, l => l.Contains("logger " + marker, StringComparison.Ordinal));
        Assert.Single(selfLog, l => l.Contains("subscriber " + marker, StringComparison.Ordinal));
        Assert.Equal(2, selfLog.Count(l => l.Contains(marker, StringComparison.Ordinal)));
    }

    [Fact]
    public void A_throwing_logger_in_the_not_captured_warning_never_escapes_step_and_is_self_logged_once()
    {
        // Before issue 9 this warning was logged without a guard: a throwing logger escaped Step() on the first full step.
        string marker = $"logger failure {Guid.NewGuid()}";
        manual_seed(92);
        using var model = new BypassingModel();
        using var monitor = model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 1; }, new ThrowingLogger(marker));
        var lines = new List<string>();
        GradientSelfLog.Enable(line => { lock (lines) { lines.Add(line); } });
        try
        {
            for (int i = 0; i < 3; i++)
            {
                using var scope = NewDisposeScope();
                model.call(randn(4, 8)).square().mean().backward();
                GradientStepResult result = monitor.Step();
                Assert.NotNull(result.Layers[1].OutputGradientNorm); // the layer called through call() is still probed
            }
        }
        finally
        {
            GradientSelfLog.Disable();
        }

        string line = Assert.Single(lines, l => l.Contains(marker, StringComparison.Ordinal));
        Assert.Contains("first", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_throwing_self_log_callback_never_escapes_step()
    {
        using var model = Mlp.Create(depth: 3, 8, Activation.ReLU, Init.He);
        using var monitor = model.AttachGradientMonitor(logger: new ThrowingLogger("logger"));
        GradientSelfLog.Enable(_ => throw new InvalidOperationException("self-log callback"));
        try
        {
            int alerts = Train(model, monitor);
            Assert.Equal(Steps, alerts);
        }
        finally
        {
            GradientSelfLog.Disable();
        }
    }

    /// <summary>Trains <see cref="Steps"/> steps with the self-log captured, writing NaN into a different layer's gradient
    /// each step so every step raises a NonFinite alert; returns the self-log lines and the alerts in the results.</summary>
    private static (List<string> SelfLog, int Alerts) RunWithFaults(nn.Module<Tensor, Tensor> model, GradientMonitor monitor)
    {
        var lines = new List<string>();
        GradientSelfLog.Enable(line => { lock (lines) { lines.Add(line); } });
        try
        {
            int alerts = Train(model, monitor);
            return (lines, alerts);
        }
        finally
        {
            GradientSelfLog.Disable();
        }
    }

    private static int Train(nn.Module<Tensor, Tensor> model, GradientMonitor monitor)
    {
        manual_seed(91);
        var parameters = model.parameters().ToArray();
        int alerts = 0;
        for (int step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            model.call(randn(4, 8)).square().mean().backward();
            using (no_grad())
            {
                using var grad = parameters[2 * (step % 3)].grad!;
                grad.view(-1)[0].fill_(double.NaN);
            }

            GradientStepResult result = monitor.Step();
            Assert.True(result.SkipStep);
            alerts += result.Alerts.Count(a => a.Kind == GradientAlertKind.NonFinite);
        }

        return alerts;
    }

    /// <summary>A logger that throws from every <see cref="Log{TState}"/> call, as a broken sink would.</summary>
    private sealed class ThrowingLogger(string message) : ILogger
    {
        public int Calls { get; private set; }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Calls++;
            throw new InvalidOperationException(message);
        }
    }
}
