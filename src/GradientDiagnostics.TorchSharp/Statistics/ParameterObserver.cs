using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// On full-statistics steps, measures the layers' parameters (θ) and, when asked, the norm of the last optimizer
/// step's change ‖θ_t − θ_{t−1}‖. For the change it copies every trainable parameter at the step just before each full
/// step; the copy is allocated only when <see cref="GradientMonitorOptions.CaptureParameterUpdates"/> is on.
/// </summary>
internal sealed class ParameterObserver(ModuleLayer[] layers, bool captureUpdates) : IDisposable
{
    private readonly TensorStatisticsCollector _collector = new(layers.Length);
    private readonly int[] _updateOffsets = new int[layers.Length];
    private readonly double?[] _updateNorms = new double?[layers.Length];
    private torch.Tensor[][]? _snapshots;
    private long _snapshotStep = -1;
    private bool _updatesQueued;

    public bool ForceDeviceGeneric
    {
        get => _collector.ForceDeviceGeneric;
        set => _collector.ForceDeviceGeneric = value;
    }

    public ReadOnlySpan<TensorStatistics> Statistics => _collector.Statistics;

    public ReadOnlySpan<double?> UpdateNorms => _updateNorms;

    /// <summary>Measures the parameters at step <paramref name="step"/> (a full step) and queues the update norms when
    /// the parameters were copied at the previous step.</summary>
    public void Queue(long step, HostTransfer transfer)
    {
        _collector.Begin();
        Array.Clear(_updateNorms);
        _updatesQueued = _snapshots is not null && _snapshotStep == step - 1;
        for (int i = 0; i < layers.Length; i++)
        {
            Parameter[] parameters = layers[i].Parameters;
            torch.Tensor? squares = null;
            for (int k = 0; k < parameters.Length; k++)
            {
                _collector.Add(i, parameters[k], transfer);
                if (_updatesQueued)
                {
                    torch.Tensor s = (parameters[k] - _snapshots![i][k]).square().sum(type: torch.ScalarType.Float64);
                    squares = squares is null ? s : squares + s;
                }
            }

            if (squares is not null)
            {
                _updateOffsets[i] = transfer.Add(squares);
            }
        }
    }

    public void Complete(ReadOnlySpan<double> host)
    {
        _collector.Complete(host);
        if (_updatesQueued)
        {
            for (int i = 0; i < layers.Length; i++)
            {
                _updateNorms[i] = Math.Sqrt(host[_updateOffsets[i]]);
            }
        }
    }

    /// <summary>Copies the parameters as they are at step <paramref name="step"/>, before its optimizer step, when the
    /// next step is a full one; the copies live outside every dispose scope until <see cref="Dispose"/>.</summary>
    public void SnapshotIfNextIsFull(long step, bool nextIsFull)
    {
        if (!captureUpdates || !nextIsFull)
        {
            return;
        }

        // Outside autograd: a copy_ from a parameter in grad mode would record a graph node on the copy.
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();

        if (_snapshots is null)
        {
            _snapshots = [.. layers.Select(l => l.Parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray())];
        }
        else
        {
            for (int i = 0; i < layers.Length; i++)
            {
                for (int k = 0; k < layers[i].Parameters.Length; k++)
                {
                    _snapshots[i][k].copy_(layers[i].Parameters[k]);
                }
            }
        }

        _snapshotStep = step;
    }

    public void Dispose()
    {
        if (_snapshots is not null)
        {
            foreach (torch.Tensor t in _snapshots.SelectMany(s => s))
            {
                t.Dispose();
            }

            _snapshots = null;
        }
    }
}
