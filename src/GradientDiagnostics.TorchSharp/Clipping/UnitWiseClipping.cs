using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Adaptive gradient clipping (AGC, Brock et al. 2021) applied in place on the gradients' device: each unit's gradient
/// norm is capped at λ·max(‖W_i‖, ε), on dense gradients and on sparse ones' coalesced values alike.
/// </summary>
internal static class UnitWiseClipping
{
    /// <summary>Clips every parameter of the layers not in <paramref name="excludedLayers"/>.</summary>
    public static void Apply(ModuleLayer[] layers, GradientStatisticsReader reader, double clipping, double epsilon, ReadOnlySpan<bool> excludedLayers)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < layers.Length; i++)
        {
            if (excludedLayers[i])
            {
                continue;
            }

            for (int k = 0; k < layers[i].Parameters.Length; k++)
            {
                Parameter parameter = layers[i].Parameters[k];
                torch.Tensor? grad = reader.Gradient(i, k);
                if (grad is null)
                {
                    continue;
                }

                if (!grad.is_sparse)
                {
                    ClipUnits(parameter, grad, reader.Units(i, k), clipping, epsilon);
                }
                else if (SparseGradient.Of(grad) is SparseGradient sparse)
                {
                    ClipSparseUnits(parameter.detach(), grad, sparse, clipping, epsilon);
                }
            }
        }
    }

    /// <summary>AGC on one parameter (Brock et al. 2021): the unit-wise norms are taken over every dimension but the first
    /// (output rows of a Linear weight, output filters of a Conv weight), or over the whole tensor when it has at most one
    /// dimension; units whose gradient norm exceeds λ·max(‖W_i‖, ε) are scaled down to it. ‖W_u‖ and ‖G_u‖ come from the
    /// unit norms the step's read kept (<paramref name="units"/>, then scaled with the gradient) or, without them, from
    /// passes of their own.</summary>
    private static void ClipUnits(torch.Tensor weight, torch.Tensor grad, UnitNorms? units, double clipping, double epsilon)
    {
        long[]? dims = grad.dim() == 0 ? null : DeviceReduction.UnitDimensions(grad);
        torch.Tensor weightNorm = units?.Weight ?? torch.linalg.vector_norm(weight, 2, dims, keepdim: true);
        torch.Tensor gradNorm = units?.L2 ?? torch.linalg.vector_norm(grad, 2, dims, keepdim: true);
        torch.Tensor factor = ClipFactor(weightNorm, gradNorm, clipping, epsilon);
        grad.mul_(factor);
        units?.Scale(factor);
    }

    /// <summary>Turns the units' weight norms into the AGC factor in place: where(‖G‖ &gt; M, M / max(‖G‖, floor), 1) with
    /// M = λ·max(‖W‖, ε). Every number is a Scalar argument: no host tensor operand (a C# number given to
    /// <c>torch.where</c> becomes a CPU tensor, which libtorch copies to the device with a blocking copy, one host
    /// synchronization per parameter on CUDA). Modifies the weight norms, never the gradient norms; returns the weight
    /// norms' tensor.
    /// <para>When λ·ε ≥ <see cref="MaskFreeMinimum"/> (the default 0.01 · 1e-3 = 1e-5 is), M ≥ floor for every unit and the
    /// factor is min(M / ‖G‖, 1), with NaN (a NaN norm, or ∞/∞) and +∞ (‖G‖ = 0) mapped to 1: no temporary at all. It is
    /// the <c>where</c> form bit for bit: with correctly rounded division M / d &lt; 1 exactly when d &gt; M; where ‖G‖ ≥
    /// floor the two divide by the same number, and where ‖G‖ &lt; floor ≤ M both give 1 (M / ‖G‖ &gt; M / floor ≥ 1).
    /// Below that, a unit with ‖G‖ ≤ M &lt; floor would get M / floor &lt; 1 from the min form, so the factor keeps the
    /// <c>where</c> form: a mask and the clamped norms, then <c>masked_fill_</c>.</para></summary>
    internal static torch.Tensor ClipFactor(torch.Tensor weightNorm, torch.Tensor gradNorm, double clipping, double epsilon)
    {
        torch.Tensor maxNorm = weightNorm.clamp_min_(epsilon).mul_(clipping);
        if (clipping * epsilon >= MaskFreeMinimum)
        {
            return maxNorm.div_(gradNorm).nan_to_num_(1.0, 1.0).clamp_max_(1.0);
        }

        torch.Tensor keep = gradNorm.gt(maxNorm).logical_not_();
        return maxNorm.div_(gradNorm.clamp_min(GradientClipping.AdaptiveGradientNormFloor)).masked_fill_(keep, 1.0);
    }

    /// <summary>The smallest λ·ε for which <see cref="ClipFactor"/> needs no mask: twice the floor, so that M = λ·max(‖W‖, ε)
    /// stays at or above the floor after rounding in any floating-point format the norms come in (float32, float64 and
    /// 16-bit rounding errors are far below a factor of 2).</summary>
    internal const double MaskFreeMinimum = 2 * GradientClipping.AdaptiveGradientNormFloor;

    /// <summary>AGC on a sparse gradient, with the same units as <see cref="ClipUnits"/>: a unit (a slice along dimension
    /// 0, an embedding row) without entries has a zero gradient and is left alone; the others' norms come from the
    /// coalesced values.</summary>
    private static void ClipSparseUnits(torch.Tensor weight, torch.Tensor grad, SparseGradient sparse, double clipping, double epsilon)
    {
        torch.Tensor sums = sparse.Sums;
        torch.Tensor factor;
        if (grad.dim() <= 1)
        {
            factor = ClipFactor(torch.linalg.vector_norm(weight, 2), torch.linalg.vector_norm(sums, 2), clipping, epsilon);
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
            factor = ClipFactor(weightNorm, gradNorm, clipping, epsilon).reshape([sums.shape[0], .. Enumerable.Repeat(1L, sumDims.Length)]);
        }

        sparse.Write(sums * factor);
    }
}
