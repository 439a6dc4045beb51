using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Measures tensors' element statistics where they live, into one <see cref="TensorStatistics"/> per layer. Dense
/// float32 CPU tensors are read in place through a zero-copy span; every other tensor (CUDA, other dtypes,
/// non-contiguous, sparse) is reduced on its device and its seven numbers are queued on the step's
/// <see cref="HostTransfer"/>, read back in <see cref="Complete"/>.
/// </summary>
internal sealed class TensorStatisticsCollector(int layerCount)
{
    private const int Fields = 7; // count, Σx², Σ|x|, max|x|, zeros, NaN, ±Inf (finite sums only)

    private readonly TensorStatistics[] _statistics = new TensorStatistics[layerCount];
    private readonly List<(int Layer, int Offset)> _deferred = [];

    /// <summary>Sends every tensor down the device-generic path, so tests exercise it on CPU.</summary>
    public bool ForceDeviceGeneric { get; set; }

    /// <summary>The statistics per layer, complete after <see cref="Complete"/>.</summary>
    public ReadOnlySpan<TensorStatistics> Statistics => _statistics;

    /// <summary>Starts a new step: forgets the previous step's statistics.</summary>
    public void Begin()
    {
        Array.Clear(_statistics);
        _deferred.Clear();
    }

    /// <summary>Adds a tensor's elements to a layer's statistics; device work lands in the caller's dispose scope.</summary>
    public void Add(int layer, torch.Tensor tensor, HostTransfer transfer)
    {
        if (!ForceDeviceGeneric && IsDenseCpuFloat32(tensor))
        {
            _statistics[layer] = TensorStatistics.Combine(_statistics[layer], TensorStatistics.Compute(MemoryMarshal.Cast<byte, float>(tensor.bytes)));
        }
        else
        {
            _deferred.Add((layer, transfer.Add(ReduceOnDevice(tensor))));
        }
    }

    /// <summary>Folds the device results, now on the host, into the layers' statistics.</summary>
    public void Complete(ReadOnlySpan<double> host)
    {
        foreach ((int layer, int offset) in _deferred)
        {
            ReadOnlySpan<double> v = host.Slice(offset, Fields);
            var statistics = new TensorStatistics
            {
                ElementCount = (long)v[0],
                SumOfSquares = v[1],
                SumOfMagnitudes = v[2],
                MaxFiniteMagnitude = v[3],
                ZeroCount = (long)v[4],
                NaNCount = (long)v[5],
                InfinityCount = (long)v[6],
            };
            _statistics[layer] = TensorStatistics.Combine(_statistics[layer], statistics);
        }

        _deferred.Clear();
    }

    /// <summary>Whether the tensor's elements can be read (and written) in place as one float span.</summary>
    internal static bool IsDenseCpuFloat32(torch.Tensor tensor) =>
        tensor.device_type == DeviceType.CPU && tensor.dtype == torch.ScalarType.Float32 && !tensor.is_sparse && tensor.is_contiguous();

    /// <summary>Reduces one tensor on its device to the seven statistics, in float64, over its finite elements.</summary>
    private static torch.Tensor ReduceOnDevice(torch.Tensor tensor)
    {
        torch.Tensor dense = tensor.is_sparse ? tensor.to_dense() : tensor;
        torch.Tensor values = dense.detach().to_type(torch.ScalarType.Float64);
        torch.Tensor finite = torch.isfinite(values);
        torch.Tensor magnitude = torch.where(finite, values, 0.0).abs();
        return torch.stack(
        [
            torch.tensor((double)values.numel(), torch.ScalarType.Float64, values.device),
            magnitude.square().sum(),
            magnitude.sum(),
            values.numel() == 0 ? torch.tensor(0.0, torch.ScalarType.Float64, values.device) : magnitude.max(),
            values.eq(0).sum().to_type(torch.ScalarType.Float64),
            torch.isnan(values).sum().to_type(torch.ScalarType.Float64),
            torch.isinf(values).sum().to_type(torch.ScalarType.Float64),
        ]);
    }
}
