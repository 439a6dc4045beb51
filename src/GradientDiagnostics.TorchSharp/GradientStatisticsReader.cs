using System.Runtime.InteropServices;
using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Measures the layers' parameter gradients where they live. Dense float32 CPU gradients are read in place through a
/// zero-copy span; every other gradient (CUDA, other dtypes, non-contiguous, sparse) goes through the device-generic
/// path, which reduces each tensor on its device and brings all results to the host in one transfer per step.
/// </summary>
internal sealed class GradientStatisticsReader(ModuleLayer[] layers)
{
    private const int Fields = 7; // count, Σx², Σ|x|, max|x|, zeros, NaN, ±Inf (finite sums only)

    /// <summary>Sends every gradient down the device-generic path, so tests exercise it on CPU.</summary>
    internal bool ForceDeviceGeneric { get; set; }

    /// <summary>Fills one observation per layer with the statistics of its current gradients.</summary>
    public void Read(Span<LayerObservation> observations)
    {
        List<(int Layer, torch.Tensor Reduced)>? deferred = null;
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < layers.Length; i++)
        {
            TensorStatistics statistics = default;
            foreach (Parameter parameter in layers[i].Parameters)
            {
                torch.Tensor? grad = parameter.grad;
                if (grad is null)
                {
                    continue;
                }

                if (!ForceDeviceGeneric && IsDenseCpuFloat32(grad))
                {
                    statistics = TensorStatistics.Combine(statistics, TensorStatistics.Compute(MemoryMarshal.Cast<byte, float>(grad.bytes)));
                }
                else
                {
                    (deferred ??= []).Add((i, ReduceOnDevice(grad)));
                }
            }

            observations[i] = new LayerObservation(statistics);
        }

        if (deferred is not null)
        {
            CombineDeviceResults(deferred, observations);
        }
    }

    private static bool IsDenseCpuFloat32(torch.Tensor grad) =>
        grad.device_type == DeviceType.CPU && grad.dtype == torch.ScalarType.Float32 && !grad.is_sparse && grad.is_contiguous();

    /// <summary>Reduces one gradient on its device to the seven statistics, in float64, over its finite elements.</summary>
    private static torch.Tensor ReduceOnDevice(torch.Tensor grad)
    {
        torch.Tensor dense = grad.is_sparse ? grad.to_dense() : grad;
        torch.Tensor values = dense.to_type(torch.ScalarType.Float64);
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

    private static void CombineDeviceResults(List<(int Layer, torch.Tensor Reduced)> deferred, Span<LayerObservation> observations)
    {
        // One device-to-host transfer for every deferred gradient of the step.
        using torch.Tensor all = torch.stack(deferred.Select(d => d.Reduced).ToArray()).cpu();
        ReadOnlySpan<double> values = MemoryMarshal.Cast<byte, double>(all.bytes);
        for (int k = 0; k < deferred.Count; k++)
        {
            ReadOnlySpan<double> v = values.Slice(k * Fields, Fields);
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
            int layer = deferred[k].Layer;
            observations[layer] = new LayerObservation(TensorStatistics.Combine(observations[layer].Gradient, statistics));
        }
    }
}
