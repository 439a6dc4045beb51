using System.Diagnostics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using GradientDiagnostics.TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>The training steps the step benchmarks compare: the same work, with and without the monitor (or with
/// <c>clip_grad_norm_</c>, the yardstick). Each returns the time spent inside the monitor's <c>Step()</c>, in ms.</summary>
internal static class TrainingSteps
{
    public static double Plain(Workload workload, optim.Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        workload.ForwardBackward();
        optimizer.step();
        return 0;
    }

    public static double Monitored(Workload workload, optim.Optimizer optimizer, GradientMonitor monitor)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        Tensor loss = workload.ForwardBackward();
        long start = Stopwatch.GetTimestamp();
        bool skip = monitor.Step(loss).SkipStep;
        double inside = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (!skip)
        {
            optimizer.step();
        }

        return inside;
    }

    /// <summary>The plain step plus libtorch's <c>clip_grad_norm_</c> at a bound it never reaches (it still multiplies every
    /// gradient by the clamped coefficient 1): the whole-step cost of reading every gradient the way PyTorch users do.</summary>
    public static double ClipGradNorm(Workload workload, optim.Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        workload.ForwardBackward();
        long start = Stopwatch.GetTimestamp();
        nn.utils.clip_grad_norm_(workload.Model.parameters(), 1e30);
        double inside = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        optimizer.step();
        return inside;
    }

    /// <summary>The plain step plus one <c>Step()</c> of a monitor attached to a different, tiny model: the monitor's
    /// managed work and libtorch calls without touching this model's tensors.</summary>
    public static double PlainWithForeignStep(Workload workload, optim.Optimizer optimizer, GradientMonitor tinyMonitor)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        workload.ForwardBackward();
        long start = Stopwatch.GetTimestamp();
        tinyMonitor.Step();
        double inside = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        optimizer.step();
        return inside;
    }

    /// <summary>The plain step plus one bare pass over every gradient on one thread (<c>TensorPrimitives.Sum</c> of each
    /// dense float32 gradient's span): the floor of any monitor that reads every gradient byte on every step, as the
    /// NaN-safe monitor must. Returns the read's time.</summary>
    public static double PlainWithBareRead(Workload workload, optim.Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        workload.ForwardBackward();
        long start = Stopwatch.GetTimestamp();
        float sum = 0;
        foreach (var parameter in workload.Model.parameters())
        {
            if (parameter.grad is Tensor grad)
            {
                sum += TensorPrimitives.Sum(MemoryMarshal.Cast<byte, float>(grad.bytes));
            }
        }

        double inside = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        optimizer.step();
        return float.IsNaN(sum) ? -inside : inside;
    }
}
