using System.Globalization;

namespace GradientDiagnostics.Adapters;

/// <summary>
/// Runs a <see cref="LossScaling"/>: the scale S of the coming step and its update after the step. The core owns it
/// (<see cref="GradientAnalyzer.EnableLossScaling"/>): the analyzer reads <see cref="Scale"/> before a step, divides the
/// step's statistics by it, and calls <see cref="Update"/> with the step's overflow verdict; an adapter multiplies the
/// loss by <see cref="Scale"/> and divides the gradients it hands the optimizer by the scale of the step.
/// </summary>
/// <remarks>The rule is <c>torch.amp.GradScaler</c>'s (<c>_amp_update_scale_</c>), in float32 as GradScaler keeps its
/// scale. Where DeepSpeed's and Megatron-LM's scalers differ, this one follows GradScaler: no hysteresis (DeepSpeed's
/// and Megatron-LM's <c>hysteresis = 2</c> keep the scale through one overflow, at the cost of a second skipped step
/// when the overflow was real), and no minimum of 1 (their <c>min_scale</c>): a scale below 1 is what a model whose
/// gradients overflow float16 unscaled needs. The scale is only kept from flushing to float32's subnormals
/// (<see cref="LossScaler.MinimumScale"/> = 2⁻¹²⁶), below which the scaled gradients would all be 0.</remarks>
public sealed class LossScaler
{
    /// <summary>The smallest scale: float32's smallest normal number, 2⁻¹²⁶ ≈ 1.18e-38.</summary>
    public const float MinimumScale = 1.17549435E-38f;

    private float _scale;

    /// <summary>Starts at <see cref="LossScaling.InitialScale"/> with no clean steps counted.</summary>
    /// <param name="scaling">The description.</param>
    /// <exception cref="ArgumentNullException"><paramref name="scaling"/> is null.</exception>
    public LossScaler(LossScaling scaling)
    {
        ArgumentNullException.ThrowIfNull(scaling);
        Scaling = scaling;
        _scale = (float)scaling.InitialScale;
    }

    /// <summary>What this scaler runs.</summary>
    public LossScaling Scaling { get; }

    /// <summary>The loss scale S of the coming step (exactly representable in float32).</summary>
    public double Scale => _scale;

    /// <summary>The clean steps in a row since the last growth or overflow (GradScaler's growth tracker).</summary>
    public int CleanSteps { get; private set; }

    /// <summary>Updates the scale after a step. Dynamic: on <paramref name="overflow"/> the scale is multiplied by
    /// <see cref="LossScaling.BackoffFactor"/> and the count reset; otherwise the count grows, and at
    /// <see cref="LossScaling.GrowthInterval"/> the scale is multiplied by <see cref="LossScaling.GrowthFactor"/> when the
    /// product is finite in float32, and the count restarts. Static and None: nothing changes.</summary>
    /// <param name="overflow">Whether any stored gradient of the step was NaN or ±Infinity.</param>
    public void Update(bool overflow)
    {
        if (!Scaling.IsDynamic)
        {
            return;
        }

        if (overflow)
        {
            _scale = Math.Max(_scale * (float)Scaling.BackoffFactor, LossScaler.MinimumScale);
            CleanSteps = 0;
            return;
        }

        int clean = CleanSteps + 1;
        if (clean >= Scaling.GrowthInterval)
        {
            float grown = _scale * (float)Scaling.GrowthFactor;
            if (float.IsFinite(grown))
            {
                _scale = grown;
            }

            CleanSteps = 0;
        }
        else
        {
            CleanSteps = clean;
        }
    }

    /// <summary>The state to save with a checkpoint.</summary>
    /// <returns>The scale and the clean-step count.</returns>
    public LossScalerState Save() => new(_scale, CleanSteps);

    /// <summary>Restores a state saved by <see cref="Save"/> (from a checkpoint, or by recovery's rollback).</summary>
    /// <param name="state">The state.</param>
    /// <exception cref="ArgumentOutOfRangeException">The scale is not a positive float32 normal number, or the count is
    /// negative; the message names the member.</exception>
    public void Restore(LossScalerState state)
    {
        if (!double.IsFinite(state.Scale) || state.Scale > float.MaxValue || (float)state.Scale < LossScaler.MinimumScale)
        {
            throw new ArgumentOutOfRangeException(nameof(state), state.Scale, string.Create(CultureInfo.InvariantCulture,
                $"{nameof(LossScalerState)}.{nameof(LossScalerState.Scale)} must be within float32's normal range; it was {state.Scale}."));
        }

        if (state.CleanSteps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(state), state.CleanSteps, $"{nameof(LossScalerState)}.{nameof(LossScalerState.CleanSteps)} must be " +
                $"≥ 0; it was {state.CleanSteps}.");
        }

        _scale = (float)state.Scale;
        CleanSteps = state.CleanSteps;
    }
}
