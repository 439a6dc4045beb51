using TorchSharp.Modules;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <summary>
/// Profiles a fused <c>nn.RNN</c>, <c>nn.LSTM</c> or <c>nn.GRU</c>, whose output gradient holds only the loss's direct part.
/// On a measuring step its pre hook keeps the input and initial state and its post hook retains the gradients of the
/// output, h_n and c_n (downstream gets aliases). After backward, <see cref="FusedReplay"/> re-runs a sub-batch one step at
/// a time from those gradients, every stacked layer and direction, and checks that the re-run reproduces the module's
/// output: where it does not (inter-layer dropout in training, or math the re-run does not model), the layers are
/// reported as not measured with the difference, never profiled wrongly.
/// </summary>
internal sealed partial class FusedModuleProbe : IRecurrentProbe
{
    /// <summary>The largest relative difference between the re-run's output and the module's that still counts as the
    /// same computation: float32 rounding over 100 steps stays below 1e-5 here; dropout changes outputs by O(1).</summary>
    private const double ReproductionTolerance = 1e-3;

    private readonly string _path;
    private readonly torch.nn.Module _module;
    private readonly FusedParameters _parameters;
    private readonly int _maxSequences;
    private readonly Action _removePre;
    private readonly Action _removePost;
    private string? _unit;
    private Capture? _capture;
    private Pass? _pass;

    public FusedModuleProbe(string path, torch.nn.Module module, int maxSequences)
    {
        _path = path;
        _module = module;
        _maxSequences = maxSequences;
        _parameters = new FusedParameters(module);
        _unit = _parameters.Unit == "RNN" ? null : _parameters.Unit;
        switch (module)
        {
            case LSTM lstm:
                _removePre = lstm.register_forward_pre_hook((_, x, hc) =>
                {
                    Keep(x, hc is null ? [] : [hc.Value.Item1, hc.Value.Item2]);
                    return null;
                }).remove;
                _removePost = lstm.register_forward_hook((_, _, _, y) => Leave([y.Item1, y.Item2, y.Item3]) is { } d ? (d[0], d[1], d[2]) : y).remove;
                break;
            case torch.nn.Module<Tensor, Tensor, (Tensor, Tensor)> m: // RNN, GRU
                _removePre = m.register_forward_pre_hook((_, x, h) =>
                {
                    Keep(x, h is null ? [] : [h]);
                    return null;
                }).remove;
                _removePost = m.register_forward_hook((_, _, _, y) => Leave([y.Item1, y.Item2]) is { } d ? (d[0], d[1]) : y).remove;
                break;
            default:
                throw new ArgumentException($"{module.GetType().Name} is not a fused recurrent module.", nameof(module));
        }
    }

    public bool Armed
    {
        private get => field && torch.is_grad_enabled();
        set;
    }

    public void Reset()
    {
        _capture?.Dispose();
        _capture = null;
        _pass = null;
        _parameters.Clear();
    }

    public void Dispose()
    {
        _removePre();
        _removePost();
        Reset();
    }

    // The last call of the step is the one profiled: an earlier call's capture is released.
    private void Keep(Tensor x, Tensor[] initial)
    {
        if (Armed)
        {
            _capture?.Dispose();
            _capture = new Capture(x, initial);
        }
    }

    private Tensor[]? Leave(Tensor[] outputs)
    {
        if (!Armed || _capture is null || _capture.Outputs is not null || !outputs[0].requires_grad)
        {
            return null;
        }

        var downstream = new Tensor[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i].retain_grad();
            downstream[i] = outputs[i].alias();
            outputs[i].DetachFromDisposeScope();
        }

        _capture.Outputs = outputs;
        return downstream;
    }

    /// <summary>What the hooks kept from the last call of a measuring step: the input, the initial state(s) and the
    /// outputs whose gradients are retained. Detached from every dispose scope until <see cref="Reset"/>.</summary>
    private sealed class Capture : IDisposable
    {
        public Capture(Tensor input, Tensor[] initial)
        {
            Input = input.detach();
            Initial = [.. initial.Select(s => s.detach())];
            foreach (Tensor t in Initial.Prepend(Input))
            {
                t.DetachFromDisposeScope();
            }
        }

        public Tensor Input { get; }

        public Tensor[] Initial { get; }

        public Tensor[]? Outputs { get; set; }

        public void Dispose()
        {
            foreach (Tensor t in Initial.Prepend(Input).Concat(Outputs ?? []))
            {
                t.Dispose();
            }
        }
    }
}
