using GradientDiagnostics.TorchSharp.Probes;
using GradientDiagnostics.TorchSharp.ThroughTime;
using Microsoft.Extensions.Logging.Abstractions;

namespace GradientDiagnostics.TorchSharp.Preflight;

/// <summary>
/// Runs a closure's forward and backward passes with the monitor's probes on every hookable layer and measures what the
/// monitor measures on a full-statistics step (parameter gradients, parameters, ‖∂L/∂y‖ and activations), with one host
/// transfer per pass. Captures the model's state first and restores it on <see cref="Dispose"/>: gradients, buffers,
/// training modes, and no hook left behind. Never steps an optimizer.
/// </summary>
internal sealed class GradientFlowPass : IDisposable
{
    /// <summary>The seed of the fixed output direction a non-scalar forward result is back-propagated along, so every
    /// pass of one remedy measures the same thing.</summary>
    private const ulong DirectionSeed = 20170101;

    private readonly ModuleLayer[] _layers;
    private readonly ModelState _state;
    private readonly LayerOutputProbes _probes;
    private readonly GradientStatisticsReader _gradients;
    private readonly ParameterObserver _parameters;
    private readonly HostTransfer _transfer = new();
    private readonly TimeProfileMeasurement? _timeProfiles;

    /// <summary>Creates the pass; with <paramref name="throughTime"/> (enabled), each pass also measures the time profile
    /// of every recurrent module (<see cref="TimeProfiles"/>).</summary>
    public GradientFlowPass(torch.nn.Module model, ModuleLayer[] layers, ThroughTimeOptions? throughTime = null)
    {
        _layers = layers;
        _state = new ModelState(model);
        _probes = new LayerOutputProbes(layers, filter: null, NullLogger.Instance) { Capturing = true };
        _gradients = new GradientStatisticsReader(layers);
        _parameters = new ParameterObserver(layers, captureUpdates: false, _gradients.Scratch);
        _timeProfiles = throughTime is { Enabled: true } ? TimeProfileMeasurement.For(model, throughTime.HorizonFraction, throughTime.MaxSequences) : null;
    }

    /// <summary>The recurrent modules' time profiles of the last <see cref="Measure"/>; empty without recurrent modules.</summary>
    public IReadOnlyList<RecurrentTimeProfile> TimeProfiles { get; private set; } = [];

    /// <summary>Runs the closure once, back-propagates its result (a scalar loss as is; any other output along a fixed
    /// random direction, ⟨y, v⟩ with v ~ N(0, 1)) and returns one observation per layer, in forward order.</summary>
    /// <exception cref="ArgumentException">A scalar was required and the closure returned more than one element.</exception>
    public LayerObservation[] Measure(Func<torch.Tensor> closure, bool requireScalar, out double? loss)
    {
        _state.ClearGradients();
        _probes.Reset();
        _timeProfiles?.PrepareNextStep(measure: true);
        var observations = new LayerObservation[_layers.Length];
        using var scope = torch.NewDisposeScope();
        torch.Tensor output = closure() ?? throw new InvalidOperationException("The closure returned null instead of a tensor.");
        if (requireScalar && output.numel() != 1)
        {
            throw new ArgumentException($"The loss closure must return a one-element tensor; it returned shape [{string.Join(", ", output.shape)}].",
                nameof(closure));
        }

        torch.Tensor objective = output.numel() == 1 ? output.sum() : (output * Direction(output)).sum();
        objective.backward();
        using var noGrad = torch.no_grad();
        int lossOffset = _transfer.Add(objective.detach());
        _gradients.Queue(_transfer);
        _parameters.Queue(0, _transfer);
        _probes.Queue(_transfer);
        _timeProfiles?.Queue(_transfer);
        ReadOnlySpan<double> host = _transfer.Fetch();
        TimeProfiles = _timeProfiles?.Complete(host) ?? [];
        _gradients.Complete(host);
        _parameters.Complete(host);
        for (int i = 0; i < observations.Length; i++)
        {
            observations[i] = new LayerObservation(_gradients.Statistics[i]) { Parameters = _parameters.Statistics[i] };
        }

        _probes.Complete(host, observations, 0);
        loss = host[lossOffset];
        return observations;
    }

    /// <summary>The layers' gradients of the last <see cref="Measure"/>, copied to the host as float32 (all of a layer's
    /// parameters in one array), for the float16 preflight. Copies, since the pass restores the gradients it found.</summary>
    public ReadOnlyMemory<float>[] CopyGradients()
    {
        using var scope = torch.NewDisposeScope();
        return [.. _layers.Select(l => (ReadOnlyMemory<float>)l.Parameters
            .Select(p => p.grad)
            .Where(g => g is not null)
            .SelectMany(g => g!.detach().to(torch.ScalarType.Float32, torch.CPU).contiguous().data<float>().ToArray())
            .ToArray())];
    }

    /// <summary>The module paths of the layers whose output gradient the observations lack.</summary>
    public string[] Unprobed(LayerObservation[] observations) =>
        [.. _layers.Where((_, i) => observations[i].OutputGradientNorm is null).Select(l => l.Name)];

    /// <summary>Removes the hooks, releases what the probes hold, and restores the model's state.</summary>
    public void Dispose()
    {
        _probes.Dispose();
        _timeProfiles?.Dispose();
        _parameters.Dispose();
        _gradients.Dispose();
        _state.Dispose();
    }

    private static torch.Tensor Direction(torch.Tensor output)
    {
        using var generator = new torch.Generator(DirectionSeed);
        return torch.randn(output.shape, torch.ScalarType.Float32, generator: generator).to(output.dtype, output.device);
    }
}
