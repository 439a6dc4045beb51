using System.Diagnostics;

namespace GradientDiagnostics.TorchSharp;

/// <content>The step pipeline: follow a moved model, measure with one host transfer, analyze and clip, apply recovery,
/// and arm the probes for the next step.</content>
public sealed partial class GradientMonitor
{
    /// <summary>Measures every trainable parameter's gradient, runs the detectors, applies
    /// <see cref="GradientMonitorOptions.Clipping"/> in place when set, and says whether to apply the step.
    /// Call it after <c>loss.backward()</c> (after the last backward when accumulating gradients) and before
    /// <c>optimizer.step()</c>. Every <see cref="GradientMonitorOptions.FullStatisticsInterval"/> steps it also reads the
    /// layer-output probes, the activations and the parameters (<see cref="GradientStepResult.Kind"/>).</summary>
    /// <param name="loss">The step's loss (a one-element tensor), to check it for NaN / ±Infinity; optional.</param>
    /// <returns>The step's statistics, alerts and skip decision.</returns>
    /// <remarks>When the model was moved after attach (<c>model.to(device)</c>, <c>model.to(ScalarType)</c>,
    /// <c>model.half()</c>: its parameters changed identity, dtype or device), <see cref="Step"/> follows it: it finds the
    /// layers again and keeps their names, history and options.</remarks>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    /// <exception cref="ArgumentException"><paramref name="loss"/> has more than one element.</exception>
    /// <exception cref="InvalidOperationException">The model's parameters changed after attach and its layers are no longer
    /// the same (a module added or removed, parameters frozen or unfrozen, the model disposed): the message says what
    /// changed; attach a new monitor after changing the model.</exception>
    public GradientStepResult Step(torch.Tensor? loss = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long start = Stopwatch.GetTimestamp();
        if (loss is not null && loss.numel() != 1)
        {
            throw new ArgumentException($"The loss must have exactly one element; it has shape [{string.Join(", ", loss.shape)}].", nameof(loss));
        }

        _follower.FollowIfMoved();

        long step = _analyzer.StepCount;
        bool full = _analyzer.NextStepKind == GradientStepKind.Full;
        double? lossValue = _measurement.Measure(loss, step, full, out string? origin);
        _mixed?.Target.Begin(_analyzer.LossScaler!.Scale);
        // Statistics, detectors, then the clipping policy applied in place on the gradients' device (on the masters'
        // gradients under mixed precision, written there once).
        GradientStepResult result = _analyzer.Analyze(_measurement.Observations, lossValue, _mixed?.Target ?? (IGradientClippingTarget?)_clipping, start, origin);
        _mixed?.Complete(result);
        _gradients.ReleaseGradients();

        _measurement.PrepareNextStep(step, _analyzer.NextStepKind == GradientStepKind.Full);
        return result;
    }
}
