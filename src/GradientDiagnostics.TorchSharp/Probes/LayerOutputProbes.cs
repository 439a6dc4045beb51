using Microsoft.Extensions.Logging;

namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// The forward hooks of one monitor. On a full-statistics step (<see cref="Capturing"/>), each probed layer's hook
/// summarizes its output and retains its gradient (<see cref="LayerProbe.Capture"/>); on cheap steps the hooks return
/// at once. Forward passes with autograd disabled (evaluation under <c>no_grad</c>) are never captured. When probes were
/// asked for, warns which layers cannot be probed, and why, at attach; and, once each, when a full step captured nothing
/// or missed a layer. When they are on by default, says the same once, in one Information line.
/// </summary>
internal sealed class LayerOutputProbes : IDisposable
{
    private readonly List<LayerProbe> _probes = [];
    private readonly List<Action> _removers = [];
    private readonly ILogger _logger;
    private readonly bool _asked;
    private readonly int _layerCount;
    private bool _warnedNothingCaptured;
    private bool _toldUnseen;

    /// <param name="layers">The monitored layers.</param>
    /// <param name="filter">Which layers to probe; null for every one.</param>
    /// <param name="logger">Where coverage notices go.</param>
    /// <param name="asked">Whether the user asked for probes (<c>CaptureLayerOutputs = true</c>): each cause of a layer
    /// not seen is then a Warning; otherwise one Information line says it all, once.</param>
    public LayerOutputProbes(ModuleLayer[] layers, Func<string, bool>? filter, ILogger logger, bool asked = true)
    {
        _logger = logger;
        _asked = asked;
        _layerCount = layers.Length;
        var unprobed = new List<(string Layer, string Reason)>();
        var unprobedByName = new Dictionary<string, string>();
        for (int i = 0; i < layers.Length; i++)
        {
            if (filter is not null && !filter(layers[i].Name))
            {
                unprobedByName.Add(layers[i].Name, $"excluded by {nameof(GradientMonitorOptions.LayerOutputFilter)}");
                continue;
            }

            var probe = new LayerProbe(i, layers[i]);
            string? reason = null;
            Action? remove = layers[i].OwnsModuleOutput ? OutputHooks.Register(layers[i].Module, probe, this, out reason) : null;
            if (remove is not null)
            {
                _probes.Add(probe);
                _removers.Add(remove);
            }
            else
            {
                reason ??= $"it is computed inside the native module {layers[i].NativeOwnerPath} ({layers[i].Module.GetType().Name}): libtorch runs it " +
                    "within one native call, so no managed module exists whose hook would see its output";
                unprobedByName.Add(layers[i].Name, reason);
                unprobed.Add((layers[i].Name, reason));
            }
        }

        ProbedLayers = [.. _probes.Select(p => p.Layer.Name)];
        Unprobed = new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(unprobedByName);
        if (asked)
        {
            ProbeCoverageWarnings.Unprobed(_logger, unprobed);
        }
        else if (unprobed.Count > 0)
        {
            _toldUnseen = true;
            ProbeCoverageWarnings.Unseen(_logger, [.. unprobed.Select(u => u.Layer)], _layerCount, "UnprobedLayers");
        }
    }

    /// <summary>Whether the hooks capture the forward passes of the coming step.</summary>
    public bool Capturing { get; set; }

    /// <summary>The names of the layers that have a probe (hookable modules selected by the filter), in forward order.</summary>
    public IReadOnlyList<string> ProbedLayers { get; }

    /// <summary>The layers without a probe, with the reason.</summary>
    public IReadOnlyDictionary<string, string> Unprobed { get; }

    /// <summary>The probed layers whose hooks ran at the last full-statistics step.</summary>
    public IReadOnlyList<string> CapturedLayers { get; private set; } = [];

    /// <summary>The layers that have a probe, by layer index.</summary>
    public IEnumerable<int> ProbedLayerIndices => _probes.Select(p => p.Index);

    /// <summary>How many times the hooks ran, captured or not; lets tests prove that disposal removed them.</summary>
    internal long HookInvocations { get; private set; }

    /// <summary>Queues every probe's device results on the step's transfer.</summary>
    public void Queue(HostTransfer transfer)
    {
        foreach (LayerProbe probe in _probes)
        {
            probe.Queue(transfer);
        }
    }

    /// <summary>Reads the probes' results into the layers' observations and forgets the step. Warns once when no probe
    /// captured anything, and once per layer that captured nothing while others did.</summary>
    public void Complete(ReadOnlySpan<double> host, Span<LayerObservation> observations, long step)
    {
        CapturedLayers = [.. _probes.Where(p => p.Captures > 0).Select(p => p.Layer.Name)];
        if (!_asked)
        {
            TellUncaptured();
        }
        else if (CapturedLayers.Count == 0 && _probes.Count > 0 && !_warnedNothingCaptured)
        {
            _warnedNothingCaptured = true;
            ProbeCoverageWarnings.NothingCaptured(_logger, step, [.. _probes.Select(p => p.Layer.Name)]);
        }

        foreach (LayerProbe probe in _probes)
        {
            if (_asked && CapturedLayers.Count > 0 && probe.Captures == 0 && !probe.WarnedNotCaptured)
            {
                probe.WarnedNotCaptured = true;
                ProbeCoverageWarnings.NotCaptured(_logger, probe.Layer.Name, step);
            }

            (double? norm, ActivationStatistics? activations) = probe.Complete(host);
            observations[probe.Index] = observations[probe.Index] with { OutputGradientNorm = norm, Activations = activations };
        }
    }

    /// <summary>Probes on by default: the first full step on which some probed layer's hook did not run is told in one
    /// Information line, unless the layers no hook can see were told at attach.</summary>
    private void TellUncaptured()
    {
        string[] missed = [.. _probes.Where(p => p.Captures == 0).Select(p => p.Layer.Name)];
        if (_toldUnseen || missed.Length == 0)
        {
            return;
        }

        _toldUnseen = true;
        ProbeCoverageWarnings.Unseen(_logger, missed, _layerCount, "CapturedLayers");
    }

    /// <summary>Forgets whatever was captured (a cheap step, or a step whose forward was left without backward).</summary>
    public void Reset()
    {
        foreach (LayerProbe probe in _probes)
        {
            probe.Reset();
        }
    }

    public void Dispose()
    {
        foreach (Action remove in _removers)
        {
            remove();
        }

        _removers.Clear();
        foreach (LayerProbe probe in _probes)
        {
            probe.Dispose();
        }
    }

    /// <summary>A hook's body for a single output: summarize it and retain its gradient on capturing steps.</summary>
    internal torch.Tensor Probe(LayerProbe probe, torch.Tensor output)
    {
        HookInvocations++;
        return Capturing && torch.is_grad_enabled() ? probe.Capture(output) : output;
    }

    /// <summary>A further output of a tuple-returning module (h_n, c_n): its gradient adds to the same norm.</summary>
    internal static torch.Tensor ProbeExtra(LayerProbe probe, torch.Tensor output) =>
        torch.is_grad_enabled() ? probe.CaptureExtra(output) : output;

    /// <summary>A hook's body on a step that does not capture.</summary>
    internal T Skip<T>(T output)
    {
        HookInvocations++;
        return output;
    }
}
