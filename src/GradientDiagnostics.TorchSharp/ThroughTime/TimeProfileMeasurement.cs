using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <summary>
/// The time profiles of a model's recurrent modules: a <see cref="CellLoopProbe"/> on every <c>RNNCell</c>,
/// <c>LSTMCell</c> and <c>GRUCell</c>, a <see cref="FusedModuleProbe"/> on every <c>nn.RNN</c>, <c>nn.LSTM</c> and
/// <c>nn.GRU</c>. Armed before a measuring step (<see cref="GradientAnalyzer.NextStepMeasuresTime"/>), queued on the step's
/// one host transfer, completed into one profile per recurrent layer (and per stacked layer and direction).
/// </summary>
internal sealed class TimeProfileMeasurement : IDisposable
{
    private readonly IRecurrentProbe[] _probes;
    private readonly double _horizonFraction;
    private bool _armed;

    private TimeProfileMeasurement(IRecurrentProbe[] probes, double horizonFraction)
    {
        _probes = probes;
        _horizonFraction = horizonFraction;
    }

    /// <summary>The probes for <paramref name="model"/>'s recurrent modules; null when it has none.</summary>
    public static TimeProfileMeasurement? For(torch.nn.Module model, double horizonFraction, int maxSequences)
    {
        IEnumerable<(string Name, torch.nn.Module Module)> modules =
            [(LayerDiscovery.RootLayerName, model), .. model.named_modules().Select(m => (m.name, m.module))];
        IRecurrentProbe[] probes = [.. modules.Select(m => Probe(m.Name, m.Module, maxSequences)).OfType<IRecurrentProbe>()];
        return probes.Length == 0 ? null : new TimeProfileMeasurement(probes, horizonFraction);
    }

    /// <summary>Whether the coming forward passes are captured.</summary>
    public bool Armed
    {
        get => _armed;
        set
        {
            _armed = value;
            foreach (IRecurrentProbe probe in _probes)
            {
                probe.Armed = value;
            }
        }
    }

    /// <summary>Runs the diagnostic passes and queues every probe's norms on the transfer (in the caller's scope).</summary>
    public void Queue(HostTransfer transfer)
    {
        foreach (IRecurrentProbe probe in _probes)
        {
            probe.Queue(transfer);
        }
    }

    /// <summary>The profiles of the step, in the order the modules were found.</summary>
    public RecurrentTimeProfile[] Complete(ReadOnlySpan<double> host)
    {
        var profiles = new List<RecurrentTimeProfile>();
        foreach (IRecurrentProbe probe in _probes)
        {
            profiles.AddRange(probe.Complete(host, _horizonFraction));
        }

        return [.. profiles];
    }

    /// <summary>Releases what the step captured and arms (or disarms) the probes for the next one.</summary>
    public void PrepareNextStep(bool measure)
    {
        foreach (IRecurrentProbe probe in _probes)
        {
            probe.Reset();
        }

        Armed = measure;
    }

    public void Dispose()
    {
        foreach (IRecurrentProbe probe in _probes)
        {
            probe.Dispose();
        }
    }

    private static IRecurrentProbe? Probe(string name, torch.nn.Module module, int maxSequences) => module switch
    {
        RNNCell or LSTMCell or GRUCell => new CellLoopProbe(name, module),
        RNN or LSTM or GRU => new FusedModuleProbe(name, module, maxSequences),
        _ => null,
    };
}
