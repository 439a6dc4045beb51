using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Applies the core's clipping decisions to a model's gradients in place, on the device where they live, with
/// TorchSharp ops (<c>mul_</c>, <c>clamp_</c>, unit-wise norms): no element-wise host loop and no device-to-host transfer,
/// except in <see cref="Measure"/> and <see cref="PowerSums"/>, which bring back one small vector per call. Sparse
/// gradients (<c>Embedding(sparse: true)</c>) are clipped on their coalesced values (<see cref="SparseGradient"/>):
/// every policy gives the same result as on the dense gradient.
/// </summary>
internal sealed class DeviceClippingTarget(ModuleLayer[] layers, GradientStatisticsReader reader) : IGradientClippingTarget
{
    /// <summary>Dense float32 CPU gradients below this many elements are scaled in place through their span. libtorch runs
    /// element-wise ops under its grain size (32,768 elements, <c>at::internal::GRAIN_SIZE</c>) on one thread anyway, so
    /// for them the span skips only the per-op dispatch (several µs, the bulk of the cost on many small tensors); larger
    /// tensors keep <c>mul_</c>, which libtorch spreads over its threads.</summary>
    internal const long SpanScaleMaxElements = 32_768;

    public void Scale(ReadOnlySpan<double> layerCoefficients)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < layers.Length; i++)
        {
            double coefficient = layerCoefficients[i];
            if (coefficient == 1)
            {
                continue;
            }

            // One native scalar per layer rather than one per mul_ (the implicit double conversion allocates each time).
            Scalar? scalar = null;
            try
            {
                foreach (Parameter parameter in layers[i].Parameters)
                {
                    torch.Tensor? grad = parameter.grad;
                    if (grad is null)
                    {
                        continue;
                    }

                    if (TensorStatisticsCollector.IsDenseCpuFloat32(grad) && grad.numel() < SpanScaleMaxElements)
                    {
                        // libtorch multiplies a float32 tensor by a double scalar cast to float: the same result, bit for bit.
                        Span<float> values = MemoryMarshal.Cast<byte, float>(grad.bytes);
                        TensorPrimitives.Multiply(values, (float)coefficient, values);
                    }
                    else
                    {
                        grad.mul_(scalar ??= coefficient.ToScalar());
                    }
                }
            }
            finally
            {
                scalar?.Dispose();
            }
        }
    }

    public void Clamp(double value)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (Parameter parameter in layers.SelectMany(l => l.Parameters))
        {
            torch.Tensor? grad = parameter.grad;
            if (grad is null)
            {
                continue;
            }

            if (!grad.is_sparse)
            {
                grad.clamp_(-value, value);
            }
            else if (SparseGradient.Of(grad) is SparseGradient sparse)
            {
                sparse.Write(sparse.Sums.clamp(-value, value));
            }
        }
    }

    public void ClipUnitWise(double clipping, double epsilon, ReadOnlySpan<bool> excludedLayers)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < layers.Length; i++)
        {
            if (excludedLayers[i])
            {
                continue;
            }

            foreach (Parameter parameter in layers[i].Parameters)
            {
                torch.Tensor? grad = parameter.grad;
                if (grad is null)
                {
                    continue;
                }

                if (!grad.is_sparse)
                {
                    ClipUnits(parameter.detach(), grad, clipping, epsilon);
                }
                else if (SparseGradient.Of(grad) is SparseGradient sparse)
                {
                    ClipSparseUnits(parameter.detach(), grad, sparse, clipping, epsilon);
                }
            }
        }
    }

    public TensorStatistics[] Measure()
    {
        using var scope = torch.NewDisposeScope();
        var transfer = new HostTransfer();
        reader.Queue(transfer);
        reader.Complete(transfer.Fetch());
        return reader.Statistics.ToArray();
    }

    public double[] PowerSums(double p)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var sums = new List<torch.Tensor>();
        var owners = new List<int>();
        for (int i = 0; i < layers.Length; i++)
        {
            foreach (Parameter parameter in layers[i].Parameters)
            {
                torch.Tensor? grad = parameter.grad;
                if (grad is null)
                {
                    continue;
                }

                // A sparse gradient's duplicate entries add up to one element: |a + b|^p, not |a|^p + |b|^p.
                torch.Tensor? elements = grad.is_sparse ? SparseGradient.Of(grad)?.Sums : grad;
                if (elements is not null)
                {
                    sums.Add(elements.to_type(torch.ScalarType.Float64).abs().pow(p).sum());
                    owners.Add(i);
                }
            }
        }

        var result = new double[layers.Length];
        if (sums.Count == 0)
        {
            return result;
        }

        // One device-to-host transfer for all tensors.
        using torch.Tensor all = torch.stack([.. sums]).cpu();
        ReadOnlySpan<double> values = MemoryMarshal.Cast<byte, double>(all.bytes);
        for (int k = 0; k < values.Length; k++)
        {
            result[owners[k]] += values[k];
        }

        return result;
    }

    /// <summary>AGC on one parameter (Brock et al. 2021): the unit-wise norms are taken over every dimension but the first
    /// (output rows of a Linear weight, output filters of a Conv weight), or over the whole tensor when it has at most one
    /// dimension; units whose gradient norm exceeds λ·max(‖W_i‖, ε) are scaled down to it.</summary>
    private static void ClipUnits(torch.Tensor weight, torch.Tensor grad, double clipping, double epsilon)
    {
        long[]? dims = grad.dim() <= 1 ? null : [.. Enumerable.Range(1, (int)grad.dim() - 1).Select(d => (long)d)];
        torch.Tensor weightNorm = torch.linalg.vector_norm(weight, 2, dims, keepdim: true);
        torch.Tensor gradNorm = torch.linalg.vector_norm(grad, 2, dims, keepdim: true);
        torch.Tensor maxNorm = weightNorm.clamp_min(epsilon).mul_(clipping);
        torch.Tensor factor = torch.where(gradNorm > maxNorm, maxNorm / gradNorm.clamp_min(GradientClipping.AdaptiveGradientNormFloor), 1.0);
        grad.mul_(factor);
    }

    /// <summary>AGC on a sparse gradient, with the same units as <see cref="ClipUnits"/>: a unit (a slice along dimension
    /// 0, an embedding row) without entries has a zero gradient and is left alone; the others' norms come from the
    /// coalesced values.</summary>
    private static void ClipSparseUnits(torch.Tensor weight, torch.Tensor grad, SparseGradient sparse, double clipping, double epsilon)
    {
        torch.Tensor sums = sparse.Sums;
        torch.Tensor factor;
        if (grad.dim() <= 1)
        {
            torch.Tensor weightNorm = torch.linalg.vector_norm(weight, 2);
            torch.Tensor gradNorm = torch.linalg.vector_norm(sums, 2);
            torch.Tensor maxNorm = weightNorm.clamp_min(epsilon).mul_(clipping);
            factor = torch.where(gradNorm > maxNorm, maxNorm / gradNorm.clamp_min(GradientClipping.AdaptiveGradientNormFloor), 1.0);
        }
        else
        {
            long[] weightDims = [.. Enumerable.Range(1, (int)weight.dim() - 1).Select(d => (long)d)];
            long[] sumDims = [.. Enumerable.Range(1, (int)sums.dim() - 1).Select(d => (long)d)];
            // Σ‖g‖² per unit: the coalesced rows of one unit (several when dimension 1 is sparse too) add up.
            torch.Tensor rowSquares = sumDims.Length == 0 ? sums.square() : sums.square().sum(sumDims);
            torch.Tensor unitNorm = torch.zeros(grad.shape[0], rowSquares.dtype, rowSquares.device).index_add_(0, sparse.Rows, rowSquares, 1).sqrt();
            torch.Tensor gradNorm = unitNorm.index_select(0, sparse.Rows);
            torch.Tensor weightNorm = torch.linalg.vector_norm(weight, 2, weightDims).index_select(0, sparse.Rows);
            torch.Tensor maxNorm = weightNorm.clamp_min(epsilon).mul_(clipping);
            factor = torch.where(gradNorm > maxNorm, maxNorm / gradNorm.clamp_min(GradientClipping.AdaptiveGradientNormFloor), 1.0)
                .reshape([sums.shape[0], .. Enumerable.Repeat(1L, sumDims.Length)]);
        }

        sparse.Write(sums * factor);
    }
}
