using TorchSharp.Modules;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <summary>
/// Profiles a cell (<c>RNNCell</c>, <c>LSTMCell</c>, <c>GRUCell</c>) that a model calls once per time step. On a measuring
/// step its pre hook hands the cell a view of the state it reads (whose gradient will be J_tᵀ g_t) and its post hook
/// retains the gradient of the state it produces (the total ∂L/∂h_t) and hands downstream an alias. A call whose state
/// is absent or outside autograd starts a new recurrence; the last recurrence of the step is profiled.
/// </summary>
internal sealed class CellLoopProbe : IRecurrentProbe
{
    private readonly string _path;
    private readonly torch.nn.Module _cell;
    private readonly Action _removePre;
    private readonly Action _removePost;
    private readonly List<(Tensor[] Read, Tensor[]? Produced)> _calls = [];
    private string? _unit;
    private readonly long _hidden;
    private long _batch;
    private RecurrenceSteps? _steps;
    private RecurrentWeightEvidence.Pending _weights;

    public CellLoopProbe(string path, torch.nn.Module cell)
    {
        _path = path;
        _cell = cell;
        using (var scope = torch.NewDisposeScope())
        {
            _hidden = RecurrentWeightEvidence.OfCell(cell).WeightHh.shape[1];
        }

        switch (cell)
        {
            case LSTMCell lstm:
                _unit = "LSTM";
                _removePre = lstm.register_forward_pre_hook((_, x, hc) => Armed ? (x, Enter(x, hc)) : null).remove;
                _removePost = lstm.register_forward_hook((_, _, _, y) => Armed ? Leave(y) : y).remove;
                break;
            case torch.nn.Module<Tensor, Tensor, Tensor> m: // RNNCell, GRUCell
                _unit = cell is GRUCell ? "GRU" : null;
                _removePre = m.register_forward_pre_hook((_, x, h) => Armed ? (x, Enter(x, h)) : null).remove;
                _removePost = m.register_forward_hook((_, _, _, y) => Armed ? Leave([y])[0] : y).remove;
                break;
            default:
                throw new ArgumentException($"{cell.GetType().Name} is not a recurrent cell.", nameof(cell));
        }
    }

    public bool Armed
    {
        get => field && torch.is_grad_enabled();
        set;
    }

    public void Queue(HostTransfer transfer)
    {
        _unit ??= RnnNonlinearity.OfCell(_cell);
        // The last recurrence of the step: the calls from the last one whose state started fresh.
        int start = _calls.FindLastIndex(IsStart);
        if (start < 0 || _calls.Skip(start).Any(c => c.Produced is null))
        {
            return;
        }

        _steps = new RecurrenceSteps(_calls.Count - start);
        for (int t = start; t < _calls.Count; t++)
        {
            _steps.Set(t - start, _calls[t].Read, _calls[t].Produced!);
        }

        _calls.RemoveRange(start, _calls.Count - start);
        _steps.Queue(transfer);
        (Tensor hh, Tensor? ih, Tensor? hb) = RecurrentWeightEvidence.OfCell(_cell);
        _weights = RecurrentWeightEvidence.Queue(transfer, _unit, hh, ih, hb);
    }

    public RecurrentTimeProfile[] Complete(ReadOnlySpan<double> host, double horizonFraction)
    {
        var profile = new RecurrentTimeProfile { Layer = _path, Unit = _unit ?? "RNN", SequenceCount = (int)_batch };
        if (_steps is null)
        {
            return [profile.AsNotMeasured(
                "the cell was not called through call() under autograd on this step (a forward() call or a no_grad pass bypasses its hooks)")];
        }

        (double[] gradient, double[] consumed) = _steps.Read(host);
        return [RecurrentWeightEvidence.Apply(host, _weights, profile).WithStepNorms(gradient, consumed, horizonFraction)];
    }

    public void Reset()
    {
        foreach ((Tensor[] read, Tensor[]? produced) in _calls)
        {
            foreach (Tensor t in read.Concat(produced ?? []))
            {
                t.Dispose();
            }
        }

        _calls.Clear();
        _steps?.Dispose();
        _steps = null;
    }

    public void Dispose()
    {
        _removePre();
        _removePost();
        Reset();
    }

    private static bool IsStart((Tensor[] Read, Tensor[]? Produced) call) => call.Read[0].is_leaf;

    private (Tensor, Tensor)? Enter(Tensor x, (Tensor, Tensor)? hc)
    {
        Tensor[] read = Enter(x, hc is null ? [null, null] : [hc.Value.Item1, hc.Value.Item2]);
        return (read[0], read[1]);
    }

    private Tensor Enter(Tensor x, Tensor? h) => Enter(x, [h])[0];

    // A state inside autograd is read through a view whose gradient is retained; an absent state (zeros) or one outside
    // autograd becomes a fresh leaf that requires grad, which changes nothing downstream but receives J_0ᵀ g_0.
    private Tensor[] Enter(Tensor x, Tensor?[] state)
    {
                long[] shape = x.dim() == 1 ? [_hidden] : [x.shape[0], _hidden];
        _batch = x.dim() == 1 ? 1 : x.shape[0];
        var read = new Tensor[state.Length];
        for (int i = 0; i < state.Length; i++)
        {
            Tensor? s = state[i];
            if (s is not null && s.requires_grad)
            {
                read[i] = s.view_as(s);
                read[i].retain_grad();
            }
            else
            {
                read[i] = (s?.detach() ?? torch.zeros(shape, x.dtype, x.device)).requires_grad_(true);
            }

            read[i].DetachFromDisposeScope();
        }

        _calls.Add((read, null));
        return read;
    }

    private (Tensor, Tensor) Leave((Tensor, Tensor) y)
    {
        Tensor[] downstream = Leave([y.Item1, y.Item2]);
        return (downstream[0], downstream[1]);
    }

    // The produced state is kept with its gradient retained, and downstream gets an alias (a user's scope or Sequential
    // may dispose what it is handed before the step reads the gradient).
    private Tensor[] Leave(Tensor[] produced)
    {
        if (_calls.Count == 0 || _calls[^1].Produced is not null || !produced[0].requires_grad)
        {
            return produced;
        }

        var downstream = new Tensor[produced.Length];
        for (int i = 0; i < produced.Length; i++)
        {
            produced[i].retain_grad();
            downstream[i] = produced[i].alias();
            produced[i].DetachFromDisposeScope();
        }

        _calls[^1] = (_calls[^1].Read, produced);
        return downstream;
    }
}
