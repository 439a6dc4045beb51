using GradientDiagnostics.TorchSharp.Probes;
using GradientDiagnostics.TorchSharp.ThroughTime;
using GradientDiagnostics.TorchSharp.Tracing;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Turns one step's tensors into the observations the analyzer consumes: the gradients every step, and on a
/// full-statistics step the parameters and the layer-output probes too, all brought to the host in one transfer.
/// Also arms the probes and the parameter copy for the step after.
/// </summary>
internal sealed class StepMeasurement(
    int layerCount, GradientStatisticsReader gradients, ParameterObserver parameters, LayerOutputProbes? probes, ForwardOriginTracer? tracer,
    TimeProfileMeasurement? timeProfiles = null)
{
    private readonly HostTransfer _transfer = new();
    private readonly LayerObservation[] _observations = new LayerObservation[layerCount];

    /// <summary>Set once the model trains through fp32 master weights (<see cref="GradientMonitor.EnableMixedPrecision"/>):
    /// its 16-bit weights are then a rounded copy of the masters, which keep every update, so a 16-bit weight left
    /// unchanged by a step has lost nothing and no lost-update fraction is reported.</summary>
    public bool MasterWeights { get; set; }

    /// <summary>What the last step handed the analyzer; its elements are replaced by each <see cref="Measure"/>.</summary>
    public LayerObservation[] Observations => _observations;

    /// <summary>The recurrent layers' time profiles of the last step; empty when it measured none.</summary>
    public IReadOnlyList<RecurrentTimeProfile> TimeProfiles { get; private set; } = [];

    /// <summary>Fills <see cref="Observations"/> (and, on a step that measures time, <see cref="TimeProfiles"/>) with one
    /// host transfer, and returns the loss value and the forward pass's non-finite origin (when traced).</summary>
    public double? Measure(torch.Tensor? loss, long step, bool full, out string? origin, bool measureTime = false)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        int lossOffset = loss is null ? -1 : _transfer.Add(loss.detach());
        gradients.Queue(_transfer, countZeros: full, holdGradients: true);
        if (full)
        {
            parameters.Queue(step, _transfer);
            probes?.Queue(_transfer);
        }

        tracer?.Queue(_transfer);
        measureTime &= timeProfiles is not null;
        if (measureTime)
        {
            timeProfiles!.Queue(_transfer);
        }

        ReadOnlySpan<double> host = _transfer.Fetch();
        origin = tracer?.Complete(host);
        TimeProfiles = measureTime ? timeProfiles!.Complete(host) : [];
        gradients.Complete(host);
        for (int i = 0; i < _observations.Length; i++)
        {
            _observations[i] = new LayerObservation(gradients.Statistics[i]) { ParameterFormat = gradients.Formats[i],
                SixteenBitGradient = gradients.SixteenBit[i] };
        }

        double? lossValue = lossOffset < 0 ? null : host[lossOffset];
        if (full)
        {
            parameters.Complete(host);
            probes?.Complete(host, _observations, step);
        }
        else if (!gradients.AllFinite || lossValue is double l && !double.IsFinite(l))
        {
            // Only on a step that is already non-finite (free on healthy ones): are the weights themselves non-finite?
            // A second host transfer, after which the first one's values are no longer read.
            parameters.Queue(step, _transfer);
            parameters.Complete(_transfer.Fetch());
            full = true;
        }

        for (int i = 0; full && i < _observations.Length; i++)
        {
            _observations[i] = _observations[i] with
            {
                Parameters = parameters.Statistics[i],
                ParameterUpdateNorm = parameters.UpdateNorms[i],
                LostUpdateFraction = MasterWeights ? null : parameters.LostUpdateFractions[i],
                ParameterFormat = gradients.Formats[i] == NumericFormat.Unknown ? parameters.Formats[i] : gradients.Formats[i],
            };
        }

        return lossValue;
    }

    /// <summary>Arms the probes and the parameter copy for the coming step, and forgets anything left from this one.</summary>
    public void PrepareNextStep(long step, bool nextIsFull, bool nextMeasuresTime = false)
    {
        parameters.SnapshotIfNextIsFull(step, nextIsFull);
        timeProfiles?.PrepareNextStep(nextMeasuresTime);
        ArmProbes(nextIsFull);
    }

    /// <summary>Clears the probes and sets whether they capture the next step.</summary>
    public void ArmProbes(bool nextIsFull)
    {
        if (probes is null)
        {
            return;
        }

        probes.Reset();
        probes.Capturing = nextIsFull;
    }
}
