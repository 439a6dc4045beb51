using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Applies the core's clipping decisions to a model's gradients in place, on the device where they live, with
/// TorchSharp ops (<c>mul_</c>, <c>clamp_</c>, unit-wise norms): no element-wise host loop and no device-to-host transfer,
/// except in <see cref="Measure"/> and <see cref="PowerSums"/>, which bring back one small vector per call (one host
/// synchronization per call, none per parameter). Sparse
/// gradients (<c>Embedding(sparse: true)</c>) are clipped on their coalesced values (<see cref="SparseGradient"/>):
/// every policy gives the same result as on the dense gradient. Unit-wise clipping lives in <see cref="UnitWiseClipping"/>.
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
                for (int k = 0; k < layers[i].Parameters.Length; k++)
                {
                    torch.Tensor? grad = reader.Gradient(i, k);
                    if (grad is null)
                    {
                        continue;
                    }

                    if (!DevicePath.ForcedOnCpu && TensorStatisticsCollector.IsDenseCpuFloat32(grad) && grad.numel() < SpanScaleMaxElements)
                    {
                        // libtorch multiplies a float32 tensor by a double scalar cast to float: the same result, bit for bit.
                        Span<float> values = MemoryMarshal.Cast<byte, float>(grad.bytes);
                        TensorPrimitives.Multiply(values, (float)coefficient, values);
                    }
                    else
                    {
                        grad.mul_(scalar ??= coefficient.ToScalar());
                        reader.Units(i, k)?.Scale(scalar);
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
        foreach ((int i, int k) in layers.SelectMany((l, i) => l.Parameters.Select((_, k) => (i, k))))
        {
            torch.Tensor? grad = reader.Gradient(i, k);
            if (grad is null)
            {
                continue;
            }

            reader.ForgetUnits(i, k);
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

    /// <summary>Clips unit-wise on the gradients' device (<see cref="UnitWiseClipping"/>), and from the next step on has the
    /// read keep every gradient's unit norms (<see cref="GradientStatisticsReader.ReadsUnitNorms"/>), so that AGC takes
    /// ‖G_u‖ from them and <see cref="Measure"/> needs no second pass.</summary>
    public void ClipUnitWise(double clipping, double epsilon, ReadOnlySpan<bool> excludedLayers)
    {
        UnitWiseClipping.Apply(layers, reader, clipping, epsilon, excludedLayers);
        reader.ReadsUnitNorms = true;
    }

    /// <summary>The statistics of the clipped gradients, in one host transfer: from the unit norms the step's read kept
    /// (scaled as the gradients were) where it kept them, else read again through the wrappers held since the read.</summary>
    public TensorStatistics[] Measure()
    {
        using var scope = torch.NewDisposeScope();
        var transfer = new HostTransfer();
        // The wrappers held since the step's read: the clipped gradients are the same tensors, changed in place.
        reader.Requeue(transfer);
        reader.Complete(transfer.Fetch());
        return reader.Statistics.ToArray();
    }

    /// <summary>Σ|g|^p per layer as ‖g‖_p^p: one <c>linalg.vector_norm(g, p)</c> per gradient, in the gradient's dtype
    /// (float32 for a 16-bit one, whose p-norm would overflow at 65504), no full-size copy, raised to p on the host after
    /// the one transfer. A norm that comes back non-finite (Σ|g|^p above float32's range) is taken again from a float64
    /// copy of that gradient, with a second transfer on that call only.</summary>
    public double[] PowerSums(double p)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var entries = new List<(int Layer, torch.Tensor Elements, int Index)>();
        var transfer = new HostTransfer();
        for (int i = 0; i < layers.Length; i++)
        {
            for (int k = 0; k < layers[i].Parameters.Length; k++)
            {
                torch.Tensor? grad = reader.Gradient(i, k);
                // A sparse gradient's duplicate entries add up to one element: |a + b|^p, not |a|^p + |b|^p.
                torch.Tensor? elements = grad is null ? null : grad.is_sparse ? SparseGradient.Of(grad)?.Sums : grad;
                if (elements is not null)
                {
                    torch.Tensor read = elements.dtype is torch.ScalarType.Float16 or torch.ScalarType.BFloat16
                        ? elements.to_type(torch.ScalarType.Float32)
                        : elements;
                    entries.Add((i, elements, transfer.AddScalar(torch.linalg.vector_norm(read, p))));
                }
            }
        }

        var result = new double[layers.Length];
        transfer.Fetch();
        List<(int Layer, int Index)>? wide = null;
        var exact = new HostTransfer();
        foreach ((int layer, torch.Tensor elements, int index) in entries)
        {
            double norm = transfer.Scalars[index];
            if (double.IsFinite(norm))
            {
                result[layer] += Math.Pow(norm, p);
            }
            else
            {
                (wide ??= []).Add((layer, exact.AddScalar(elements.to_type(torch.ScalarType.Float64, copy: true).abs_().pow_(p).sum())));
            }
        }

        if (wide is not null)
        {
            exact.Fetch();
            foreach ((int layer, int index) in wide)
            {
                result[layer] += exact.Scalars[index];
            }
        }

        return result;
    }
}
