using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Gathers the results a step computed on the device (gradient reductions, probe norms, activation sums, the loss) and
/// brings them to the host in one transfer, so a step synchronizes with the device once. Zero-dimensional results
/// (<see cref="AddScalar"/>: a norm per tensor, a count) are stacked per (dtype, device) at <see cref="Fetch"/>, so the
/// libtorch ops of a transfer do not grow with the number of tensors read: one <c>stack</c> and one conversion per group.
/// </summary>
/// <remarks>Reused across steps: the host buffers only grow, so a steady-state step allocates no managed array here.</remarks>
internal sealed class HostTransfer
{
    private readonly List<torch.Tensor> _pending = [];
    private readonly List<torch.Tensor> _scalars = [];
    private readonly List<(int Slot, int Count)> _slots = [];
    private readonly List<(torch.ScalarType Type, DeviceType Device, int Index, long Rank, List<int> Members)> _groups = [];
    private double[] _host = [];
    private double[] _scalarValues = [];
    private int _length;
    private int _scalarCount;
    private int _slotCount;

    /// <summary>Queues a tensor whose elements are read as float64 after <see cref="Fetch"/>; returns its offset in the
    /// span <see cref="Fetch"/> returns. The tensor is owned by the caller's dispose scope.</summary>
    public int Add(torch.Tensor values)
    {
        int offset = _length;
        _length += checked((int)values.numel());
        _pending.Add(values);
        return offset;
    }

    /// <summary>Queues a zero-dimensional tensor (any dtype) read as float64 after <see cref="Fetch"/>; returns its index in
    /// <see cref="Scalars"/>. The tensor is owned by the caller's dispose scope.</summary>
    public int AddScalar(torch.Tensor value) => Queue(value, rank: 0, 1);

    /// <summary>Queues a small tensor (any dtype) whose elements are read as float64 after <see cref="Fetch"/>, into
    /// consecutive <see cref="Scalars"/>; returns the first one's index. One-dimensional, or of any rank whose dimensions
    /// after the first are 1 (a reduction with <c>keepdim</c>). Concatenated per (dtype, device, rank) group at
    /// <see cref="Fetch"/>, like the zero-dimensional ones are stacked, so it adds no op of its own. The tensor is owned by
    /// the caller's dispose scope.</summary>
    public int AddVector(torch.Tensor values) => Queue(values, Math.Max(1, values.dim()), checked((int)values.numel()));

    /// <summary>Queues <paramref name="value"/> in the group of its dtype, device and <paramref name="rank"/> (0: stacked
    /// scalars; otherwise tensors concatenated along their first dimension).</summary>
    private int Queue(torch.Tensor value, long rank, int count)
    {
        torch.ScalarType type = value.dtype;
        DeviceType device = value.device_type;
        int deviceIndex = device == DeviceType.CPU ? -1 : value.device_index;
        List<int>? members = null;
        foreach ((torch.ScalarType t, DeviceType d, int i, long r, List<int> m) in _groups)
        {
            if (t == type && d == device && i == deviceIndex && r == rank)
            {
                members = m;
                break;
            }
        }

        if (members is null)
        {
            members = [];
            _groups.Add((type, device, deviceIndex, rank, members));
        }

        members.Add(_scalars.Count);
        _scalars.Add(value);
        _slots.Add((_slotCount, count));
        _slotCount += count;
        return _slotCount - count;
    }

    /// <summary>The values of the tensors queued with <see cref="AddScalar"/>, by index; valid after <see cref="Fetch"/>
    /// until the next one.</summary>
    public ReadOnlySpan<double> Scalars => _scalarValues.AsSpan(0, _scalarCount);

    /// <summary>Brings every queued tensor to the host in one transfer and forgets them; the values stay readable
    /// through the returned span (and <see cref="Scalars"/>) until the next <see cref="Fetch"/>.</summary>
    public ReadOnlySpan<double> Fetch()
    {
        if (_pending.Count == 0 && _scalars.Count == 0)
        {
            _scalarCount = 0;
            return [];
        }

        int length = _length;
        using (var scope = torch.NewDisposeScope())
        {
            // One stack per (dtype, device) group of scalars, appended after the queued tensors.
            var parts = new List<torch.Tensor>(_pending.Count + _groups.Count);
            parts.AddRange(_pending);
            foreach ((_, _, _, long rank, List<int> members) in _groups)
            {
                torch.Tensor[] group = [.. members.Select(m => _scalars[m])];
                parts.Add(rank > 0 ? torch.cat(group) : torch.stack(group));
            }

            int total = length + _slotCount;
            if (_host.Length < total)
            {
                _host = new double[Math.Max(total, _host.Length * 2)];
            }

            if (parts.TrueForAll(t => t.device_type == DeviceType.CPU))
            {
                // Already on the host: read each in place (no cat, no copy to a new tensor), converting only what is not
                // dense float64. Saves several libtorch ops per step, which matters on small models.
                int offset = 0;
                foreach (torch.Tensor t in parts)
                {
                    torch.Tensor values = t.dtype == torch.ScalarType.Float64 && t.is_contiguous() ? t : t.to_type(torch.ScalarType.Float64).contiguous();
                    ReadOnlySpan<double> read = MemoryMarshal.Cast<byte, double>(values.bytes);
                    read.CopyTo(_host.AsSpan(offset));
                    offset += read.Length;
                }
            }
            else
            {
                // The one device-to-host copy (and so the one synchronization) of the step.
                torch.Device device = parts.First(t => t.device_type != DeviceType.CPU).device;
                torch.Tensor all = torch.cat(parts.Select(t => t.to(torch.ScalarType.Float64, device).reshape(-1)).ToArray()).cpu();
                MemoryMarshal.Cast<byte, double>(all.bytes).CopyTo(_host);
            }

            if (_scalarValues.Length < _slotCount)
            {
                _scalarValues = new double[Math.Max(_slotCount, _scalarValues.Length * 2)];
            }

            int position = length;
            foreach ((_, _, _, _, List<int> members) in _groups)
            {
                foreach (int member in members)
                {
                    (int slot, int count) = _slots[member];
                    _host.AsSpan(position, count).CopyTo(_scalarValues.AsSpan(slot));
                    position += count;
                }
            }

            _scalarCount = _slotCount;
        }

        _pending.Clear();
        _scalars.Clear();
        _slots.Clear();
        _slotCount = 0;
        _groups.Clear();
        _length = 0;
        return _host.AsSpan(0, length);
    }
}
