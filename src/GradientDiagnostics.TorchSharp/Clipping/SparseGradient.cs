namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// A sparse COO gradient (<c>nn.Embedding(..., sparse: true)</c>), seen through its coalesced values. libtorch has no
/// <c>clamp_</c> or <c>linalg_vector_norm</c> for sparse tensors, and TorchSharp 0.107 exposes no <c>coalesce()</c>; a
/// gradient from one backward is uncoalesced (one entry per looked-up index, duplicates included), so an element's value
/// is the sum of its entries. This type sums the duplicates (<see cref="Sums"/>), and <see cref="Write"/> stores new
/// element values back into the gradient's own values (a view, <c>SparseValues</c>) in place: each element's value in
/// its first entry, zeros in the duplicates, so the gradient's dense value is exactly the new one. All tensors land in the
/// caller's dispose scope.
/// </summary>
internal sealed class SparseGradient
{
    private readonly torch.Tensor _values;
    private readonly torch.Tensor _first;

    private SparseGradient(torch.Tensor gradient)
    {
        _values = gradient.SparseValues;
        torch.Tensor indices = gradient.SparseIndices; // [sparse dims, entries]
        long[] shape = gradient.shape;
        // One linear index per entry over the sparse dimensions, so entries of one element share it.
        torch.Tensor linear = indices[0].clone();
        for (int d = 1; d < indices.shape[0]; d++)
        {
            linear = linear.mul_(shape[d]).add_(indices[d]);
        }

        (torch.Tensor _, torch.Tensor? inverse, torch.Tensor? _) = torch.unique(linear, sorted: true, return_inverse: true);
        long elements = inverse!.numel() == 0 ? 0 : inverse.max().item<long>() + 1;
        // The first entry of each element: a stable sort keeps entries of one element in their original order.
        (torch.Tensor _, torch.Tensor order) = inverse.sort(stable: true);
        torch.Tensor firstOfRun = torch.ones(order.numel(), torch.ScalarType.Bool, order.device);
        if (order.numel() > 1)
        {
            torch.Tensor sorted = inverse.index_select(0, order);
            firstOfRun[torch.TensorIndex.Slice(1)] = sorted[torch.TensorIndex.Slice(1)].ne(sorted[torch.TensorIndex.Slice(null, -1)]);
        }

        _first = order.masked_select(firstOfRun);
        Sums = torch.zeros([elements, .. _values.shape[1..]], _values.dtype, _values.device).index_add_(0, inverse, _values, 1);
        Rows = indices[0].index_select(0, _first);
    }

    /// <summary>The coalesced values: one row per distinct element of the sparse dimensions, in ascending index order.</summary>
    public torch.Tensor Sums { get; }

    /// <summary>The index along dimension 0 (the unit: an embedding row) of each row of <see cref="Sums"/>.</summary>
    public torch.Tensor Rows { get; }

    /// <summary>Reads a sparse gradient; null for a dense one or one without entries.</summary>
    public static SparseGradient? Of(torch.Tensor gradient) =>
        gradient.is_sparse && gradient.SparseValues.numel() > 0 ? new SparseGradient(gradient) : null;

    /// <summary>Stores <paramref name="sums"/> (the shape of <see cref="Sums"/>) as the gradient's element values, in place.</summary>
    public void Write(torch.Tensor sums)
    {
        _values.zero_();
        _values.index_copy_(0, _first, sums.to_type(_values.dtype));
    }
}
