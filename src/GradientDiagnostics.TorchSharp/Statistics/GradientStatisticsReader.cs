using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Measures the layers' parameter gradients (∂L/∂θ) where they live, every step. CPU float32 gradients are read in place;
/// the others are reduced on their device and read back with the step's single host transfer.
/// </summary>
internal sealed class GradientStatisticsReader(ModuleLayer[] layers)
{
    private readonly TensorStatisticsCollector _collector = new(layers.Length);

    /// <summary>How many threads the last step's CPU read used (see <see cref="TensorStatisticsCollector.ReadThreads"/>).</summary>
    internal int LastReadThreads => _collector.LastReadThreads;

    /// <summary>The gradient statistics per layer, complete after <see cref="Complete"/>.</summary>
    public ReadOnlySpan<TensorStatistics> Statistics => _collector.Statistics;

    /// <summary>Per layer, its 16-bit gradients' statistics as stored (zero-or-subnormal count, max |g|), read in the same
    /// pass; null for a layer without 16-bit gradients.</summary>
    public ReadOnlySpan<SixteenBitStatistics?> SixteenBit => _collector.SixteenBit;

    /// <summary>Per layer, the format its gradients (and so its parameters) are stored in.</summary>
    public ReadOnlySpan<NumericFormat> Formats => _collector.Formats;

    /// <summary>Whether every gradient read at this step is finite; valid after <see cref="Complete"/>.</summary>
    public bool AllFinite
    {
        get
        {
            foreach (TensorStatistics s in _collector.Statistics)
            {
                if (!s.IsFinite)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>How many gradients of the last step took the device path's second, exact read.</summary>
    internal int LastExactReads => _collector.LastExactReads;

    /// <summary>Measures the CPU gradients and queues the others' device reductions. Every <c>p.grad</c> wrapper it reads
    /// is disposed by the caller's dispose scope.</summary>
    /// <param name="transfer">The step's host transfer.</param>
    /// <param name="countZeros">Whether the device reads count zeros (full-statistics steps); the managed reads always do.</param>
    public void Queue(HostTransfer transfer, bool countZeros = true)
    {
        _collector.Begin();
        _collector.CountZeros = countZeros;
        for (int i = 0; i < layers.Length; i++)
        {
            foreach (Parameter parameter in layers[i].Parameters)
            {
                torch.Tensor? grad = parameter.grad;
                if (grad is not null)
                {
                    _collector.Add(i, grad, transfer);
                }
            }
        }
    }

    /// <summary>Folds the device results into <see cref="Statistics"/>.</summary>
    public void Complete(ReadOnlySpan<double> host) => _collector.Complete(host);
}
