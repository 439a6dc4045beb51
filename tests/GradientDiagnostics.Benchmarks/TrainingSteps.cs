using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>The two training steps every step benchmark compares: the same work, with and without the monitor.</summary>
internal static class TrainingSteps
{
    public static void Plain(Workload workload, optim.Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        workload.ForwardBackward();
        optimizer.step();
    }

    public static void Monitored(Workload workload, optim.Optimizer optimizer, GradientMonitor monitor)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        Tensor loss = workload.ForwardBackward();
        if (!monitor.Step(loss).SkipStep)
        {
            optimizer.step();
        }
    }
}
