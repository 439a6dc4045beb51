using System.Diagnostics;

namespace GradientDiagnostics.Adapters;

/// <content>The step pipeline: the observations measured (<see cref="StepAssembly"/>), the detectors, the clipping
/// policy, the detectors that read its outcome, recovery and loss scaling decided, then the alerts published and the
/// result sent to the telemetry outputs.</content>
public sealed partial class GradientAnalyzer
{
    /// <summary>Analyzes one step: statistics, detectors and alerts, then, when <see cref="GradientMonitorOptions.Clipping"/>
    /// is set and a <paramref name="clippingTarget"/> is given, the clipping policy applied to it in place (an adapter
    /// passes its gradients; <see cref="ArrayClippingTarget"/> is the CPU reference). Without a target nothing is clipped
    /// and the result has no clipping figures. With recovery on (<see cref="EnableRecovery"/>), the step's recovery
    /// decision is applied through the recovery target before this method returns.</summary>
    /// <param name="layers">One observation per layer, in the order of <see cref="LayerNames"/>.</param>
    /// <param name="loss">The loss value, when known; a non-finite loss raises an alert and skips the step.</param>
    /// <param name="clippingTarget">Where the clipping policy applies its decisions; null to measure and detect only.</param>
    /// <param name="measurementStarted">When the adapter started measuring this step (a <see cref="Stopwatch.GetTimestamp"/>
    /// value), so the overhead metric includes its reading; now when null.</param>
    /// <param name="forwardOrigin">The name of the first module whose forward output was non-finite in this step's forward
    /// pass (<see cref="NonFiniteOptions.TraceOrigin"/>), named in the NonFinite alert; null when none was or the
    /// adapter does not trace its forward pass.</param>
    /// <returns>The step's statistics, alerts, clipping figures and skip decision.</returns>
    /// <exception cref="ArgumentException">The number of observations differs from the number of layers.</exception>
    public GradientStepResult Analyze(
        ReadOnlySpan<LayerObservation> layers,
        double? loss = null,
        IGradientClippingTarget? clippingTarget = null,
        long? measurementStarted = null,
        string? forwardOrigin = null)
    {
        long start = measurementStarted ?? Stopwatch.GetTimestamp();
        if (layers.Length != _layerNames.Length)
        {
            throw new ArgumentException($"Expected {_layerNames.Length} layer observations, one per layer, but got {layers.Length}.", nameof(layers));
        }

        long step = StepCount++;
        double lossScale = _scaler?.Scale ?? 1;
        LayerGradientStatistics[] statistics = StepAssembly.Measure(layers, _layerNames, lossScale, out TensorStatistics all);

        RememberParameters(statistics);
        var evidence = new StepEvidence(step, loss, all.L2Norm, statistics, _layers, _history, _lastParameters)
        {
            ForwardOrigin = forwardOrigin,
            PreviousStepSkipped = _previousStepSkipped,
            LossScaleProbeOverflow = _scaler is { Scaling.IsDynamic: true } && lossScale > 1 && !all.IsFinite,
        };
        List<GradientAlert> alerts = [];
        foreach (IGradientDetector detector in _detectors)
        {
            detector.Detect(evidence, alerts);
        }

        _history.Record(all.L2Norm, _spikeZScoreThreshold, statistics);

        bool nonFinite = !all.IsFinite || (loss is double l && !double.IsFinite(l));
        ClippingOutcome? clipped = _clipping is not null && clippingTarget is not null ? _clipping.Run(statistics, nonFinite, clippingTarget) : null;
        evidence.Clipping = clipped;
        foreach (IGradientDetector detector in _afterClipping)
        {
            detector.Detect(evidence, alerts);
        }

        bool overflow = _scaler is not null && !all.IsFinite;
        bool skipNonFinite = overflow || (nonFinite && (_skipNonFiniteSteps || clipped?.SkipStep == true));
        RecoveryDecision recovery = overflow && _scaler!.Scaling.IsDynamic
            ? default
            : _recovery?.Policy.Decide(step, all.L2Norm, loss, skipNonFinite, alerts) ?? default;
        _scaler?.Update(overflow);
        _recovery?.Apply(recovery, step);
        var result = StepAssembly.Result(evidence, KindOf(step), alerts, clipped, skipNonFinite || recovery.SkipsStep, recovery.RollBackTo, lossScale);
        _previousStepSkipped = result.SkipStep;
        double overheadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        foreach (GradientAlert alert in alerts)
        {
            _publisher.Publish(alert, AlertRaised);
        }

        _telemetry.OnStep(result, overheadSeconds);
        return result;
    }

    /// <summary>Keeps each layer's last finite parameter statistics, so alerts on steps that do not read the weights still
    /// know their scale (<see cref="StepEvidence.WeightScale"/>).</summary>
    private void RememberParameters(LayerGradientStatistics[] statistics)
    {
        for (int i = 0; i < statistics.Length; i++)
        {
            if (statistics[i].Parameters is TensorStatistics p && p.ElementCount > 0 && p.IsFinite)
            {
                _lastParameters[i] = p;
            }
        }
    }
}
