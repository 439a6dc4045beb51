using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// On full-statistics steps, measures the layers' parameters (θ) and, when asked, the norm of the last optimizer
/// step's change ‖θ_t − θ_{t−1}‖. For the change it copies every trainable parameter at the step just before each full
/// step; the copy is allocated only when <see cref="GradientMonitorOptions.CaptureParameterUpdates"/> is on. With the copy,
/// it also counts the 16-bit weight elements the step left unchanged (<see cref="LostUpdateFractions"/>). The monitor also
/// measures the parameters on a step whose gradients or loss are non-finite, to tell non-finite weights apart.
/// </summary>
internal sealed class ParameterObserver(ModuleLayer[] layers, bool captureUpdates, ReductionScratch? scratch = null) : IDisposable
{
    private readonly TensorStatisticsCollector _collector = new(layers.Length, scratch);
    private readonly int[] _updateOffsets = new int[layers.Length];
    private readonly double?[] _updateNorms = new double?[layers.Length];
    private readonly int[] _unchangedOffsets = new int[layers.Length];
    private readonly long[] _sixteenBitElements = new long[layers.Length];
    private readonly double?[] _lostUpdateFractions = new double?[layers.Length];
    private torch.Tensor[][]? _snapshots;
    private long _snapshotStep = -1;
    private bool _updatesQueued;

    public ReadOnlySpan<TensorStatistics> Statistics => _collector.Statistics;

    /// <summary>Per layer, the format its parameters are stored in (see <see cref="TensorStatisticsCollector.Formats"/>).</summary>
    public ReadOnlySpan<NumericFormat> Formats => _collector.Formats;

    public ReadOnlySpan<double?> UpdateNorms => _updateNorms;

    /// <summary>Per layer, the fraction of its 16-bit weight elements equal before and after the last optimizer step
    /// (compared as values: for finite weights, bit-identical), when the update was captured; null otherwise.</summary>
    public ReadOnlySpan<double?> LostUpdateFractions => _lostUpdateFractions;

    /// <summary>Measures the parameters at step <paramref name="step"/> (a full step) and queues the update norms when
    /// the parameters were copied at the previous step.</summary>
    public void Queue(long step, HostTransfer transfer)
    {
        _collector.Begin();
        Array.Clear(_updateNorms);
        Array.Clear(_lostUpdateFractions);
        Array.Clear(_sixteenBitElements);
        _updatesQueued = _snapshots is not null && _snapshotStep == step - 1;
        _snapshotStep = _updatesQueued ? -2 : _snapshotStep; // consumed: the update norms overwrite the float snapshots
        using var noGrad = torch.no_grad();
        for (int i = 0; i < layers.Length; i++)
        {
            Parameter[] parameters = layers[i].Parameters;
            torch.Tensor? squares = null, unchanged = null;
            for (int k = 0; k < parameters.Length; k++)
            {
                _collector.Add(i, parameters[k], transfer);
                if (_updatesQueued)
                {
                    torch.Tensor s = UpdateSquares(parameters[k], _snapshots![i][k]);
                    squares = squares is null ? s : squares + s;
                    if (parameters[k].dtype is torch.ScalarType.Float16 or torch.ScalarType.BFloat16)
                    {
                        torch.Tensor u = parameters[k].eq(_snapshots[i][k]).sum();
                        unchanged = unchanged is null ? u : unchanged + u;
                        _sixteenBitElements[i] += parameters[k].numel();
                    }
                }
            }

            if (squares is not null)
            {
                _updateOffsets[i] = transfer.Add(squares);
            }

            if (unchanged is not null)
            {
                _unchangedOffsets[i] = transfer.Add(unchanged);
            }
        }
    }

    /// <summary>‖θ − θ_snapshot‖₂², zero-dimensional. float32 and float64: the difference is taken in place in the snapshot
    /// (which the next snapshot overwrites anyway) and its 2-norm read with no temporary; 16-bit: squared and summed in
    /// float64, never in 16 bits. The unchanged count of 16-bit weights is taken before, from the intact snapshot.</summary>
    private static torch.Tensor UpdateSquares(torch.Tensor parameter, torch.Tensor snapshot) =>
        parameter.dtype is torch.ScalarType.Float32 or torch.ScalarType.Float64
            ? torch.linalg.vector_norm(snapshot.sub_(parameter), 2).pow_(2)
            : (parameter - snapshot).square().sum(type: torch.ScalarType.Float64);

    public void Complete(ReadOnlySpan<double> host)
    {
        _collector.Complete(host);
        if (_updatesQueued)
        {
            for (int i = 0; i < layers.Length; i++)
            {
                _updateNorms[i] = Math.Sqrt(host[_updateOffsets[i]]);
                _lostUpdateFractions[i] = _sixteenBitElements[i] > 0 ? host[_unchangedOffsets[i]] / _sixteenBitElements[i] : null;
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
        _collector.Dispose();
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
