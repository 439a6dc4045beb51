namespace GradientDiagnostics;

/// <summary>
/// A gradient clipping policy: what <c>GradientMonitor.Step()</c> does to the gradients after measuring them and before
/// returning, so the optimizer step sees clipped gradients. Create one with the factory methods and set it as
/// <see cref="GradientMonitorOptions.Clipping"/>; combine several with <see cref="Then"/>.
/// </summary>
/// <remarks>
/// <para>A policy object is an immutable description: each monitor it is given to binds its own policy from it, with
/// its own state (AutoClip's history, ZScore's running mean), so one policy can configure several monitors.</para>
/// <para>No policy ever changes gradients on a step whose gradients or loss hold NaN or ±Infinity: they are left
/// untouched for inspection, and the step is skipped when <see cref="GradientMonitorOptions.SkipNonFiniteSteps"/> is on
/// (the default) or the policy contains <see cref="SkipNonFinite"/>. So a non-finite total norm never turns finite
/// gradients into NaN, as <c>torch.nn.utils.clip_grad_norm_</c> does.</para>
/// <para>The formulas, defaults and references of every policy are in docs/clipping.md.</para>
/// </remarks>
public abstract class GradientClipping
{
    private protected GradientClipping()
    {
    }

    /// <summary>
    /// Scales all gradients together so their total norm is at most <paramref name="maxNorm"/>, with the semantics of
    /// PyTorch's <c>torch.nn.utils.clip_grad_norm_</c>: coefficient = maxNorm / (total + 1e-6), clamped to at most 1.
    /// The step result reports the total before clipping in <see cref="GradientStepResult.NormBeforeClipping"/>.
    /// </summary>
    /// <param name="maxNorm">The largest total norm allowed; finite and &gt; 0.</param>
    /// <param name="normType">The norm: 1, 2 (default), any finite p &gt; 0, or <see cref="double.PositiveInfinity"/> (max |g|).</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range; the exception names it.</exception>
    public static GradientClipping ByGlobalNorm(double maxNorm, double normType = 2)
    {
        OptionGuard.Positive(maxNorm, nameof(maxNorm));
        if (!double.IsPositiveInfinity(normType))
        {
            OptionGuard.Positive(normType, nameof(normType));
        }

        return new GlobalNormClipping(maxNorm, normType);
    }

    /// <summary>Clamps every gradient element to [−<paramref name="clipValue"/>, <paramref name="clipValue"/>], as
    /// <c>torch.nn.utils.clip_grad_value_</c> does.</summary>
    /// <param name="clipValue">The largest magnitude allowed; finite and &gt; 0.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clipValue"/> is not finite or not &gt; 0.</exception>
    public static GradientClipping ByValue(double clipValue)
    {
        OptionGuard.Positive(clipValue, nameof(clipValue));
        return new ValueClipping(clipValue);
    }

    /// <summary>The rule of <see cref="ByGlobalNorm"/> (L2) applied to each layer on its own: layer l's gradients are
    /// scaled by min(1, maxNorm / (‖g_l‖₂ + 1e-6)).</summary>
    /// <param name="maxNorm">The largest L2 norm allowed per layer; finite and &gt; 0.</param>
    /// <param name="excludedLayers">Layers left alone, by module path (a path also excludes the layers under it).</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite or not &gt; 0.</exception>
    public static GradientClipping ByLayerNorm(double maxNorm, params string[] excludedLayers)
    {
        OptionGuard.Positive(maxNorm, nameof(maxNorm));
        return new LayerNormClipping(maxNorm, new LayerExclusion(excludedLayers));
    }

    /// <summary>The floor on a unit's gradient norm before <see cref="Adaptive"/> clipping divides by it, so a unit whose
    /// gradient is all zeros is never divided by zero. Every <see cref="IGradientClippingTarget.ClipUnitWise"/> applies it.</summary>
    /// <value>The value is 1e-6 (the NFNets reference code, Brock et al. 2021).</value>
    public const double AdaptiveGradientNormFloor = 1e-6;

    /// <summary>
    /// Adaptive gradient clipping (AGC; Brock, De, Smith &amp; Simonyan 2021, "High-Performance Large-Scale Image
    /// Recognition Without Normalization"), unit-wise: for each unit i (an output row of a Linear weight, an output
    /// filter of a Conv weight, a whole 1-D tensor), max = clipping · max(‖W_i‖, epsilon), and when ‖G_i‖ &gt; max, G_i is
    /// scaled by max / max(‖G_i‖, <see cref="AdaptiveGradientNormFloor"/>). NFNets leave the classifier head out: pass its module path in
    /// <paramref name="excludedLayers"/> (the TorchSharp adapter's <c>ModulePaths</c> finds paths from modules).
    /// </summary>
    /// <param name="clipping">λ, the largest gradient-to-weight norm ratio per unit; finite and &gt; 0. The default 0.01
    /// is the value NFNets use at large batch sizes (Brock et al. 2021).</param>
    /// <param name="epsilon">The smallest weight norm used, so zero-initialised units can still move; finite and &gt; 0.
    /// The default 1e-3 is the NFNets value.</param>
    /// <param name="excludedLayers">Layers left alone, by module path (a path also excludes the layers under it).</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range; the exception names it.</exception>
    public static GradientClipping Adaptive(double clipping = 0.01, double epsilon = 1e-3, params string[] excludedLayers)
    {
        OptionGuard.Positive(clipping, nameof(clipping));
        OptionGuard.Positive(epsilon, nameof(epsilon));
        return new AdaptiveGradientClipping(clipping, epsilon, new LayerExclusion(excludedLayers));
    }

    /// <summary>
    /// AutoClip (Seetharaman, Wichern, Pardo &amp; Le Roux 2020, "AutoClip: Adaptive Gradient Clipping for Source
    /// Separation Networks"): clips the global L2 norm, as <see cref="ByGlobalNorm"/> does, to the
    /// <paramref name="percentile"/>-th percentile of the history of pre-clip global norms, the current step included,
    /// with linear interpolation (numpy's default).
    /// </summary>
    /// <param name="percentile">The percentile, in [0, 100]. The default 10 is the paper's recommendation.</param>
    /// <param name="window">When set, the history holds only the last <paramref name="window"/> norms (≥ 1); by
    /// default it holds every step, as in the paper.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range; the exception names it.</exception>
    public static GradientClipping AutoClip(double percentile = 10, int? window = null)
    {
        OptionGuard.InClosedRange(percentile, 0, 100, nameof(percentile));
        if (window is int w)
        {
            OptionGuard.InRange(w, 1, int.MaxValue, nameof(window));
        }

        return new AutoClipClipping(percentile, window);
    }

    /// <summary>
    /// ZClip (Kumar et al. 2025, "ZClip: Adaptive Spike Mitigation for LLM Pre-Training"): z-score
    /// clipping of the global L2 norm against an exponential moving average. After <paramref name="warmupSteps"/> steps
    /// (mean and population variance of their norms), z = (g − μ)/(σ + 1e-6); when z &gt; zThreshold the gradients are
    /// scaled to τ = μ + zThreshold²·σ/z. The EMA is fed the clipped value: μ ← αμ + (1−α)x, then σ² ← ασ² + (1−α)(x − μ)².
    /// </summary>
    /// <param name="alpha">The EMA smoothing factor, in (0, 1). The default 0.97 is ZClip's.</param>
    /// <param name="zThreshold">The z-score above which a norm is a spike; finite and &gt; 0. The default 2.5 is ZClip's.</param>
    /// <param name="warmupSteps">Steps that only collect norms before z-scores are used; ≥ 1. The default 25 is ZClip's.</param>
    /// <param name="maxNorm">An optional hard cap on the global L2 norm, applied on every step (warm-up included); off by default.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range; the exception names it.</exception>
    public static GradientClipping ZScore(double alpha = 0.97, double zThreshold = 2.5, int warmupSteps = 25, double? maxNorm = null)
    {
        OptionGuard.InOpenRange(alpha, 0, 1, nameof(alpha));
        OptionGuard.Positive(zThreshold, nameof(zThreshold));
        OptionGuard.InRange(warmupSteps, 1, int.MaxValue, nameof(warmupSteps));
        if (maxNorm is double cap)
        {
            OptionGuard.Positive(cap, nameof(maxNorm));
        }

        return new ZScoreClipping(alpha, zThreshold, warmupSteps, maxNorm);
    }

    /// <summary>When any gradient or the loss is NaN or ±Infinity, sets <see cref="GradientStepResult.SkipStep"/> and
    /// leaves the gradients untouched so they can be inspected; the NonFinite detector raises the alert. The monitor does
    /// this by default (<see cref="GradientMonitorOptions.SkipNonFiniteSteps"/>); this policy makes it explicit in a
    /// chain and keeps it on even when that option is turned off.</summary>
    /// <returns>The policy.</returns>
    public static GradientClipping SkipNonFinite() => SkipNonFiniteClipping.Instance;

    /// <summary>Runs this policy, then <paramref name="next"/> on the gradients this one left, for example
    /// <c>SkipNonFinite().Then(Adaptive()).Then(ByGlobalNorm(1.0))</c>.</summary>
    /// <param name="next">The policy to run after this one.</param>
    /// <returns>The combined policy.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="next"/> is null.</exception>
    public GradientClipping Then(GradientClipping next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return new ClippingChain([.. Flatten(this), .. Flatten(next)]);
    }

    /// <summary>The norm type this policy measures the global norm in, when it clips a global norm; null otherwise.</summary>
    internal virtual double? GlobalNormType => null;

    /// <summary>The max norm of the first global-norm policy in the chain, drawn as the threshold on reports; null when none.</summary>
    internal virtual double? GlobalNormThreshold => null;

    /// <summary>Whether this policy marks non-finite steps as skipped.</summary>
    internal virtual bool SkipsNonFiniteSteps => false;

    /// <summary>The policy one monitor with the given layers runs: fresh state, exclusions resolved. The description
    /// itself is never changed.</summary>
    /// <exception cref="ArgumentException">An excluded layer name matches no layer.</exception>
    internal abstract IClippingPolicy Bind(IReadOnlyList<string> layerNames);

    private static IEnumerable<GradientClipping> Flatten(GradientClipping policy) =>
        policy is ClippingChain chain ? chain.Policies : [policy];
}
