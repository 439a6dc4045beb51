namespace GradientDiagnostics.Adapters;

/// <summary>
/// Fits the per-layer gain of a norm profile across depth: the factor by which the back-propagated signal is
/// multiplied per layer on its way from the loss towards the input.
/// </summary>
/// <remarks>
/// Back-propagation multiplies the signal by one factor f'(z)·Wᵀ per layer, so at init ‖∂L/∂y_l‖ ≈ g^(L−l)·‖∂L/∂y_L‖
/// with g = √(σ_w²·E[φ'(z)²]). The fit takes the consecutive ratios r_l = n_l / n_{l+1} (earlier over later, so
/// g &lt; 1 means vanishing towards the input and g &gt; 1 exploding), drops the lowest and highest 10% of their
/// logarithms (at least one each way once there are five or more ratios) so a few noisy layers — a projection head, a
/// normalization layer — do not move it, and returns the geometric mean of the rest.
/// </remarks>
public static class DepthProfile
{
    /// <summary>The fraction of log-ratios dropped at each end before averaging.</summary>
    public const double TrimFraction = 0.1;

    /// <summary>Fits the per-layer gain of norms given in forward order (index 0 closest to the input).</summary>
    /// <param name="normsInForwardOrder">One norm per layer; non-finite or non-positive norms break the chain and their ratios are skipped.</param>
    /// <returns>The trimmed geometric mean of the consecutive ratios, or null when fewer than one ratio is available.</returns>
    public static double? FitGain(ReadOnlySpan<double> normsInForwardOrder)
    {
        Span<double> logs = normsInForwardOrder.Length <= 256 ? stackalloc double[normsInForwardOrder.Length] : new double[normsInForwardOrder.Length];
        int count = 0;
        for (int i = 0; i + 1 < normsInForwardOrder.Length; i++)
        {
            double earlier = normsInForwardOrder[i], later = normsInForwardOrder[i + 1];
            if (double.IsFinite(earlier) && double.IsFinite(later) && earlier > 0 && later > 0)
            {
                logs[count++] = Math.Log(earlier / later);
            }
        }

        if (count == 0)
        {
            return null;
        }

        Span<double> used = logs[..count];
        used.Sort();
        int trim = count >= 5 ? Math.Max(1, (int)(count * TrimFraction)) : 0;
        used = used[trim..(count - trim)];
        double sum = 0;
        foreach (double log in used)
        {
            sum += log;
        }

        return Math.Exp(sum / used.Length);
    }

    /// <summary>Fits the gain over the observations whose <see cref="LayerObservation.OutputGradientNorm"/> was measured,
    /// in forward order: the same fit as <see cref="GradientStepResult.DepthGain"/>, for a pass measured outside a
    /// monitored step (an adapter's gradient-flow preflight or initialization remedy).</summary>
    /// <param name="observations">One observation per layer, in forward order.</param>
    /// <returns>The per-layer gain, or null when fewer than two layers were probed.</returns>
    public static double? FitOutputGradientGain(ReadOnlySpan<LayerObservation> observations) =>
        FitProbed(observations, static o => o.OutputGradientNorm).Gain;

    /// <summary>Fits the gain over the layers whose output gradient was probed, in forward order; the one fit the
    /// analyzer (<see cref="GradientStepResult.DepthGain"/>) and the gradient-flow preflight both use.</summary>
    /// <returns>The gain (null when fewer than two layers were probed) and the number of probed layers.</returns>
    internal static (double? Gain, int Probed) FitProbed<T>(ReadOnlySpan<T> layers, Func<T, double?> outputGradientNorm)
    {
        Span<double> norms = layers.Length <= 256 ? stackalloc double[layers.Length] : new double[layers.Length];
        int probed = 0;
        foreach (T layer in layers)
        {
            if (outputGradientNorm(layer) is double norm)
            {
                norms[probed++] = norm;
            }
        }

        return (probed >= 2 ? FitGain(norms[..probed]) : null, probed);
    }
}
