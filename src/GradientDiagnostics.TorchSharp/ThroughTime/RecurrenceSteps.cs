using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <summary>
/// The tensors of one recurrence kept through a measuring step, one entry per time step in time order: the state the
/// step produced (h, and c for an LSTM), whose retained gradient is the total ∂L/∂h_t, and a view of the state it read,
/// made before the step consumed it, whose gradient is J_tᵀ g_t (this step's consumption only). After backward both are
/// reduced on their device to ‖g_t‖ and ‖J_tᵀ g_t‖ and queued on the step's one host transfer.
/// </summary>
internal sealed class RecurrenceSteps(int length) : IDisposable
{
    private readonly Tensor[]?[] _produced = new Tensor[length][];
    private readonly Tensor[]?[] _read = new Tensor[length][];
    private int _offset = -1;

    /// <summary>The number of time steps.</summary>
    public int Length => _produced.Length;

    /// <summary>Keeps what step <paramref name="t"/> read and produced; the tensors become this object's to dispose.</summary>
    public void Set(int t, Tensor[] read, Tensor[] produced)
    {
        _read[t] = read;
        _produced[t] = produced;
    }

    /// <summary>Whether every time step was recorded.</summary>
    public bool Complete => Array.TrueForAll(_produced, p => p is not null) && Array.TrueForAll(_read, r => r is not null);

    /// <summary>Reduces the gradients to ‖g_t‖ and ‖J_tᵀ g_t‖ (float64, in the caller's dispose scope) and queues them.</summary>
    public void Queue(HostTransfer transfer)
    {
        using var noGrad = torch.no_grad();
        _offset = transfer.Add(torch.cat([Norms(_produced), Norms(_read)]));
    }

    /// <summary>The queued norms: ‖∂L/∂h_t‖ and ‖J_tᵀ g_t‖ for t = 0 … T−1.</summary>
    public (double[] Gradient, double[] Consumed) Read(ReadOnlySpan<double> host) =>
        (host.Slice(_offset, Length).ToArray(), host.Slice(_offset + Length, Length).ToArray());

    public void Dispose()
    {
        foreach (Tensor[]? tensors in _produced.Concat(_read))
        {
            foreach (Tensor tensor in tensors ?? [])
            {
                tensor.Dispose();
            }
        }
    }

    // One norm per step over all its state parts ((h, c) for an LSTM): the gradients of each part stacked over time, so
    // the reduction is a few kernels rather than a few per step. A step no gradient reached counts as 0.
    private static Tensor Norms(Tensor[]?[] steps)
    {
        Tensor? squares = null;
        for (int part = 0; part < steps[0]!.Length; part++)
        {
            Tensor[] gradients = [.. steps.Select(s => s![part].grad ?? torch.zeros_like(s[part]))];
            Tensor sum = torch.stack(gradients).to(torch.ScalarType.Float64).flatten(1).square().sum(1);
            squares = squares is null ? sum : squares + sum;
        }

        return squares!.sqrt();
    }
}
