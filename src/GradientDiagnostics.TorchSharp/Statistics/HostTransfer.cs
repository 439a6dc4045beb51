using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Gathers the float64 results a step computed on the device (gradient reductions, probe norms, activation sums, the
/// loss) and brings them to the host in one transfer, so a step synchronizes with the device once.
/// </summary>
/// <remarks>Reused across steps: the host buffer only grows, so a steady-state step allocates no managed array here.</remarks>
internal sealed class HostTransfer
{
    private readonly List<torch.Tensor> _pending = [];
    private double[] _host = [];
    private int _length;

    /// <summary>Queues a tensor whose elements are read as float64 after <see cref="Fetch"/>; returns its offset.
    /// The tensor is owned by the caller's dispose scope.</summary>
    public int Add(torch.Tensor values)
    {
        int offset = _length;
        _length += checked((int)values.numel());
        _pending.Add(values);
        return offset;
    }

    /// <summary>Brings every queued tensor to the host in one transfer and forgets them; the values stay readable
    /// through the returned span until the next <see cref="Fetch"/>.</summary>
    public ReadOnlySpan<double> Fetch()
    {
        if (_pending.Count == 0)
        {
            return [];
        }

        if (_host.Length < _length)
        {
            _host = new double[Math.Max(_length, _host.Length * 2)];
        }

        using (var scope = torch.NewDisposeScope())
        {
            if (_pending.TrueForAll(t => t.device_type == DeviceType.CPU))
            {
                // Already on the host: read each in place (no cat, no copy to a new tensor), converting only what is not
                // dense float64. Saves several libtorch ops per step, which matters on small models.
                int offset = 0;
                foreach (torch.Tensor t in _pending)
                {
                    torch.Tensor values = t.dtype == torch.ScalarType.Float64 && t.is_contiguous() ? t : t.to_type(torch.ScalarType.Float64).contiguous();
                    ReadOnlySpan<double> read = MemoryMarshal.Cast<byte, double>(values.bytes);
                    read.CopyTo(_host.AsSpan(offset));
                    offset += read.Length;
                }
            }
            else
            {
                torch.Device device = _pending[0].device;
                torch.Tensor all = torch.cat(_pending.Select(t => t.to(torch.ScalarType.Float64, device).reshape(-1)).ToArray()).cpu();
                MemoryMarshal.Cast<byte, double>(all.bytes).CopyTo(_host);
            }
        }

        int length = _length;
        _pending.Clear();
        _length = 0;
        return _host.AsSpan(0, length);
    }
}
