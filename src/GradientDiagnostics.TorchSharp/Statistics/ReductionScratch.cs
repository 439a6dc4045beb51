namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Reusable working memory for <see cref="DeviceReduction"/>: one flat buffer per (dtype, device), grown to the largest
/// tensor (or chunk) it has had to hold, and a view of it per shape, both kept across steps. A tensor is widened or made
/// absolute by <c>copy_</c> into its view and in-place ops on it, so a steady-state step allocates no device memory and
/// creates no tensor for it (every new tensor costs a native handle and a P/Invoke round trip; on CUDA an allocation from
/// the caching allocator). The buffer holds at most <see cref="DeviceReduction.WideningChunkElements"/> elements, because
/// larger tensors are read in chunks of that size.
/// </summary>
/// <remarks>Not thread-safe: one per statistics collector, used on the training thread.</remarks>
internal sealed class ReductionScratch : IDisposable
{
    private readonly List<Buffer> _buffers = [];
    private readonly List<(torch.ScalarType Type, torch.Device Device, torch.Tensor Ones)> _ones = [];

    /// <summary>A tensor of <paramref name="like"/>'s shape and device and of dtype <paramref name="dtype"/>, whose contents
    /// are undefined; valid until the next call for a larger tensor of that dtype and device, or <see cref="Dispose"/>.
    /// Owned by this scratch (outside every dispose scope).</summary>
    public torch.Tensor Like(torch.Tensor like, torch.ScalarType dtype) => View(like.shape, like.numel(), dtype, like.device);

    /// <summary>The memory <see cref="Like"/> gives <paramref name="like"/>, as a matrix: one row per slice along its first
    /// dimension (one row in all when it has at most one dimension). Same lifetime as <see cref="Like"/>.</summary>
    public torch.Tensor RowsLike(torch.Tensor like, torch.ScalarType dtype)
    {
        long elements = like.numel();
        long rows = like.dim() <= 1 ? 1 : like.shape[0];
        return View([rows, elements / rows], elements, dtype, like.device);
    }

    /// <summary>A vector of <paramref name="length"/> ones of dtype <paramref name="dtype"/> on <paramref name="device"/>,
    /// made once: with <c>addmv_</c> it sums a matrix's rows into a vector in place. Owned by this scratch.</summary>
    public torch.Tensor Ones(long length, torch.ScalarType dtype, torch.Device device)
    {
        foreach ((torch.ScalarType type, torch.Device on, torch.Tensor ones) in _ones)
        {
            if (type == dtype && on.type == device.type && on.index == device.index && ones.shape[0] == length)
            {
                return ones;
            }
        }

        torch.Tensor made = torch.ones(length, dtype, device).DetachFromDisposeScope();
        _ones.Add((dtype, device, made));
        return made;
    }

    private torch.Tensor View(long[] sizes, long elements, torch.ScalarType dtype, torch.Device device)
    {
        Buffer buffer = Grown(dtype, device, elements);
        var shape = new Shape(sizes);
        if (!buffer.Views.TryGetValue(shape, out torch.Tensor? view))
        {
            using torch.Tensor front = buffer.Flat!.narrow(0, 0, elements);
            view = front.view(shape.Sizes).DetachFromDisposeScope();
            buffer.Views.Add(shape, view);
        }

        return view;
    }

    /// <summary>Two rows of <paramref name="like"/>'s size in one buffer of dtype <paramref name="dtype"/> on its device:
    /// <c>Both</c> is the <c>[2, n]</c> view, <c>First</c> and <c>Second</c> the rows in <paramref name="like"/>'s shape. A
    /// reduction over dimension 1 of <c>Both</c> gives one result per row in one tensor. Same lifetime as
    /// <see cref="Like"/>.</summary>
    public (torch.Tensor Both, torch.Tensor First, torch.Tensor Second) Rows(torch.Tensor like, torch.ScalarType dtype)
    {
        long elements = like.numel();
        Buffer buffer = Grown(dtype, like.device, 2 * elements);
        var shape = new Shape(like.shape);
        if (!buffer.Rows.TryGetValue(shape, out (torch.Tensor Both, torch.Tensor First, torch.Tensor Second) rows))
        {
            using torch.Tensor front = buffer.Flat!.narrow(0, 0, 2 * elements);
            using torch.Tensor first = buffer.Flat.narrow(0, 0, elements);
            using torch.Tensor second = buffer.Flat.narrow(0, elements, elements);
            rows = (front.view(2, elements).DetachFromDisposeScope(), first.view(shape.Sizes).DetachFromDisposeScope(),
                second.view(shape.Sizes).DetachFromDisposeScope());
            buffer.Rows.Add(shape, rows);
        }

        return rows;
    }

    /// <summary>The buffer of <paramref name="dtype"/> on <paramref name="device"/>, grown to at least
    /// <paramref name="elements"/> (its views dropped when it grows); <paramref name="zeroed"/>: zero-filled, so resident.</summary>
    private Buffer Grown(torch.ScalarType dtype, torch.Device device, long elements, bool zeroed = false)
    {
        Buffer? buffer = _buffers.Find(b => b.Type == dtype && b.Device.type == device.type && b.Device.index == device.index);
        if (buffer is null)
        {
            buffer = new Buffer(dtype, device);
            _buffers.Add(buffer);
        }

        if (buffer.Flat is null || buffer.Flat.numel() < elements)
        {
            buffer.Clear();
            buffer.Flat = (zeroed ? torch.zeros(elements, dtype, device) : torch.empty(elements, dtype, device)).DetachFromDisposeScope();
        }

        return buffer;
    }

    /// <summary>Grows the buffer of <paramref name="dtype"/> on <paramref name="device"/> to at least
    /// <paramref name="elements"/> elements, zero-filled so that its pages are resident now (at attach) rather than first
    /// touched inside a training step.</summary>
    public void Reserve(torch.ScalarType dtype, torch.Device device, long elements) => Grown(dtype, device, elements, zeroed: true);

    /// <summary>Releases every buffer and view.</summary>
    public void Dispose()
    {
        foreach (Buffer buffer in _buffers)
        {
            buffer.Clear();
        }

        _buffers.Clear();
        foreach ((_, _, torch.Tensor ones) in _ones)
        {
            ones.Dispose();
        }

        _ones.Clear();
    }

    private sealed class Buffer(torch.ScalarType type, torch.Device device)
    {
        public torch.ScalarType Type { get; } = type;

        public torch.Device Device { get; } = device;

        public torch.Tensor? Flat { get; set; }

        public Dictionary<Shape, torch.Tensor> Views { get; } = [];

        public Dictionary<Shape, (torch.Tensor Both, torch.Tensor First, torch.Tensor Second)> Rows { get; } = [];

        public void Clear()
        {
            foreach (torch.Tensor view in Views.Values)
            {
                view.Dispose();
            }

            Views.Clear();
            foreach ((torch.Tensor both, torch.Tensor first, torch.Tensor second) in Rows.Values)
            {
                both.Dispose();
                first.Dispose();
                second.Dispose();
            }

            Rows.Clear();
            Flat?.Dispose();
            Flat = null;
        }
    }

    /// <summary>A tensor shape compared by value, as a dictionary key.</summary>
    private readonly struct Shape(long[] sizes) : IEquatable<Shape>
    {
        public long[] Sizes { get; } = sizes;

        public bool Equals(Shape other) => Sizes.AsSpan().SequenceEqual(other.Sizes);

        public override bool Equals(object? obj) => obj is Shape other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (long size in Sizes)
            {
                hash.Add(size);
            }

            return hash.ToHashCode();
        }
    }
}
