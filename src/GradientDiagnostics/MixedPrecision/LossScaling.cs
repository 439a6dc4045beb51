using System.Globalization;

namespace GradientDiagnostics;

/// <summary>
/// How the loss is scaled before <c>backward()</c> in mixed-precision training (<see cref="MixedPrecisionOptions.LossScaling"/>),
/// so small float16 gradients do not flush to zero (Micikevicius et al. 2018, §3.2): <see cref="Dynamic"/>, the rule of
/// PyTorch's <c>torch.amp.GradScaler</c>; <see cref="Static"/>, a fixed factor; or <see cref="None"/>. A description only:
/// <see cref="LossScaler"/> runs it.
/// </summary>
public sealed class LossScaling
{
    private LossScaling(string kind, double initialScale, double growthFactor, double backoffFactor, int growthInterval)
    {
        Kind = kind;
        InitialScale = initialScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
    }

    /// <summary>No loss scaling: the scale is 1 and never changes. Overflowing steps are still skipped.</summary>
    /// <value>The default for bfloat16 parameters, as DeepSpeed (<c>bf16</c> has no loss scaler), Megatron-LM
    /// (<c>--bf16</c> uses a constant scale of 1) and fairseq (<c>--bf16</c> without scaling) do: bfloat16 has float32's
    /// exponent range, so its gradients neither underflow nor overflow where float32's would not.</value>
    public static LossScaling None { get; } = new("None", 1, 1, 1, int.MaxValue);

    /// <summary>True for <see cref="Dynamic"/>: the scale backs off on overflow and grows after clean steps.</summary>
    public bool IsDynamic => Kind == "Dynamic";

    /// <summary>The scale S of the first step (the loss is multiplied by it).</summary>
    public double InitialScale { get; }

    /// <summary>The factor the scale is multiplied by after <see cref="GrowthInterval"/> clean steps in a row (1 when not dynamic).</summary>
    public double GrowthFactor { get; }

    /// <summary>The factor the scale is multiplied by at an overflowing step (1 when not dynamic).</summary>
    public double BackoffFactor { get; }

    /// <summary>The number of clean (finite) steps in a row after which the scale grows.</summary>
    public int GrowthInterval { get; }

    private string Kind { get; }

    /// <summary>Dynamic loss scaling with <c>torch.amp.GradScaler</c>'s rule: at a step whose stored gradients hold a NaN
    /// or ±Infinity, the step is skipped, the scale is multiplied by <paramref name="backoffFactor"/> and the count of clean
    /// steps is reset; otherwise the count grows by one, and when it reaches <paramref name="growthInterval"/> the scale is
    /// multiplied by <paramref name="growthFactor"/> (kept as it is when the product would overflow float32) and the count
    /// restarts at 0. The scale is held in float32, as GradScaler holds it, so the sequence is GradScaler's bit for bit.</summary>
    /// <param name="initialScale">The first scale; &gt; 0 and within float32's range. The default value is 65536 = 2¹⁶,
    /// GradScaler's <c>init_scale</c> (DeepSpeed's default <c>initial_scale_power</c> is also 16).</param>
    /// <param name="growthFactor">&gt; 1. The default value is 2, GradScaler's <c>growth_factor</c> (DeepSpeed and
    /// Megatron-LM use 2 as well).</param>
    /// <param name="backoffFactor">In (0, 1). The default value is 0.5, GradScaler's <c>backoff_factor</c> (DeepSpeed and
    /// Megatron-LM halve too).</param>
    /// <param name="growthInterval">≥ 1. The default value is 2000, GradScaler's <c>growth_interval</c> (DeepSpeed's
    /// <c>loss_scale_window</c> and Megatron-LM's <c>--loss-scale-window</c> default to 1000).</param>
    /// <returns>The description.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range; the message names it.</exception>
    public static LossScaling Dynamic(double initialScale = 65536, double growthFactor = 2, double backoffFactor = 0.5, int growthInterval = 2000)
    {
        CheckScale(initialScale, nameof(initialScale));
        if (!double.IsFinite(growthFactor) || growthFactor <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(growthFactor), growthFactor, string.Create(CultureInfo.InvariantCulture,
                $"{nameof(growthFactor)} must be a finite number greater than 1; it was {growthFactor}."));
        }

        OptionGuard.InOpenRange(backoffFactor, 0, 1, nameof(backoffFactor));
        OptionGuard.InRange(growthInterval, 1, int.MaxValue, nameof(growthInterval));
        return new LossScaling("Dynamic", initialScale, growthFactor, backoffFactor, growthInterval);
    }

    /// <summary>A fixed loss scale: every step's loss is multiplied by <paramref name="scale"/>. An overflowing step is
    /// skipped and the scale stays as it is.</summary>
    /// <param name="scale">&gt; 0 and within float32's range.</param>
    /// <returns>The description.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> is out of range.</exception>
    public static LossScaling Static(double scale)
    {
        CheckScale(scale, nameof(scale));
        return new LossScaling("Static", scale, 1, 1, int.MaxValue);
    }

    /// <summary>The kind and its parameters, for example
    /// <c>Dynamic(initialScale: 65536, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => Kind switch
    {
        "Dynamic" => string.Create(CultureInfo.InvariantCulture, $"Dynamic(initialScale: {InitialScale}, growthFactor: {GrowthFactor}, backoffFactor: ") +
            string.Create(CultureInfo.InvariantCulture, $"{BackoffFactor}, growthInterval: {GrowthInterval})"),
        "Static" => string.Create(CultureInfo.InvariantCulture, $"Static({InitialScale})"),
        _ => Kind,
    };

    private static void CheckScale(double scale, string name)
    {
        // The scale multiplies a float32 loss and is held in float32 (as GradScaler's is): it must be representable there.
        OptionGuard.Positive(scale, name);
        if (scale > float.MaxValue || (float)scale < LossScaler.MinimumScale)
        {
            throw new ArgumentOutOfRangeException(name, scale, string.Create(CultureInfo.InvariantCulture, $"{name} must be within float32's normal range ") +
                string.Create(CultureInfo.InvariantCulture, $"[{LossScaler.MinimumScale}, {float.MaxValue}]; it was {scale}."));
        }
    }
}
