using Microsoft.Extensions.Logging;

namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// The forward hooks of one monitor. On a full-statistics step (<see cref="Capturing"/>), each probed layer's hook
/// summarizes its output and retains its gradient (<see cref="LayerProbe.Capture"/>); on cheap steps the hooks return
/// at once. Forward passes with autograd disabled (evaluation under <c>no_grad</c>) are never captured.
/// </summary>
internal sealed class LayerOutputProbes : IDisposable
{
    private readonly List<LayerProbe> _probes = [];
    private readonly List<Action> _removers = [];
    private readonly ILogger _logger;

    public LayerOutputProbes(ModuleLayer[] layers, Func<string, bool>? filter, ILogger logger)
    {
        _logger = logger;
        for (int i = 0; i < layers.Length; i++)
        {
            if (filter is not null && !filter(layers[i].Name))
            {
                continue;
            }

            var probe = new LayerProbe(i, layers[i]);
            Action? remove = Register(layers[i].Module, probe);
            if (remove is not null)
            {
                _probes.Add(probe);
                _removers.Add(remove);
            }
        }
    }

    /// <summary>Whether the hooks capture the forward passes of the coming step.</summary>
    public bool Capturing { get; set; }

    /// <summary>The layers that have a probe (hookable modules selected by the filter), by layer index.</summary>
    public IEnumerable<int> ProbedLayers => _probes.Select(p => p.Index);

    /// <summary>Sends every probe down the device path, so tests exercise it on CPU.</summary>
    internal bool ForceDeviceGeneric
    {
        set => _probes.ForEach(p => p.ForceDeviceGeneric = value);
    }

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

    /// <summary>Reads the probes' results into the layers' observations and forgets the step; warns once per layer that
    /// captured nothing while others did (its parent bypasses hooks with <c>forward()</c>).</summary>
    public void Complete(ReadOnlySpan<double> host, Span<LayerObservation> observations, long step)
    {
        bool anyCaptured = _probes.Exists(p => p.Captures > 0);
        foreach (LayerProbe probe in _probes)
        {
            if (anyCaptured && probe.Captures == 0 && !probe.WarnedNotCaptured)
            {
                probe.WarnedNotCaptured = true;
                LogNotCaptured(probe.Layer.Name, step);
            }

            (double? norm, ActivationStatistics? activations) = probe.Complete(host);
            observations[probe.Index] = observations[probe.Index] with { OutputGradientNorm = norm, Activations = activations };
        }
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

    private Action? Register(torch.nn.Module module, LayerProbe probe)
    {
        switch (module)
        {
            case torch.nn.Module<torch.Tensor, torch.Tensor> single:
                return single.register_forward_hook((_, _, output) => Probe(probe, output)).remove;
            case torch.nn.Module<torch.Tensor, torch.Tensor, torch.Tensor> pair:
                return pair.register_forward_hook((_, _, _, output) => Probe(probe, output)).remove;
            case torch.nn.Module<torch.Tensor, torch.Tensor, (torch.Tensor, torch.Tensor)> recurrent: // RNN, GRU
                return recurrent.register_forward_hook((_, _, _, output) => Capturing
                    ? (Probe(probe, output.Item1), ProbeExtra(probe, output.Item2))
                    : Skip(output)).remove;
            case torch.nn.Module<torch.Tensor, (torch.Tensor, torch.Tensor)?, (torch.Tensor, torch.Tensor, torch.Tensor)> lstm:
                return lstm.register_forward_hook((_, _, _, output) => Capturing
                    ? (Probe(probe, output.Item1), ProbeExtra(probe, output.Item2), ProbeExtra(probe, output.Item3))
                    : Skip(output)).remove;
            default:
                // A plain Module (or a signature not listed) has no forward hooks to use: its gradients are still
                // measured, but its output is not probed.
                return null;
        }
    }

    private T Skip<T>(T output)
    {
        HookInvocations++;
        return output;
    }

    /// <summary>The hook body: summarize the output and retain its gradient.</summary>
    private torch.Tensor Probe(LayerProbe probe, torch.Tensor output)
    {
        HookInvocations++;
        return Capturing && torch.is_grad_enabled() ? probe.Capture(output) : output;
    }

    /// <summary>Warns that a layer's hooks did not run; a throwing logger goes to the self-log instead of the training loop.</summary>
    private void LogNotCaptured(string layer, long step)
    {
        try
        {
            Log.LayerOutputNotCaptured(_logger, layer, step);
        }
#pragma warning disable CA1031 // A failing logger must never break the training loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            GradientSelfLog.Write($"the logger threw while warning that layer {layer} was not captured; training goes on.", ex);
        }
    }

    /// <summary>A further output of a tuple-returning module (h_n, c_n): its gradient adds to the same norm.</summary>
    private static torch.Tensor ProbeExtra(LayerProbe probe, torch.Tensor output) =>
        torch.is_grad_enabled() ? probe.CaptureExtra(output) : output;
}
