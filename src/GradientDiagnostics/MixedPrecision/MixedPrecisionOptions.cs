namespace GradientDiagnostics;

/// <summary>
/// Configures mixed-precision training (<c>GradientMonitor.EnableMixedPrecision</c>): the model keeps its 16-bit
/// parameters for forward and backward, an fp32 master copy is what the optimizer updates, and the loss is scaled
/// as <see cref="LossScaling"/> says. The values are validated and copied when mixed precision is enabled.
/// </summary>
public sealed class MixedPrecisionOptions
{
    /// <summary>How the loss is scaled; null picks the default from the parameters' dtype (see <see cref="LossScalingFor"/>).</summary>
    /// <value>The default value is null: <see cref="LossScaling.Dynamic"/> with GradScaler's defaults for float16
    /// parameters, <see cref="LossScaling.None"/> for bfloat16, as DeepSpeed, Megatron-LM and fairseq choose.</value>
    public LossScaling? LossScaling { get; set; }

    /// <summary>The loss scaling to use: <see cref="LossScaling"/> when set, otherwise <see cref="LossScaling.Dynamic"/>
    /// (GradScaler's defaults) when the parameters are float16 and <see cref="LossScaling.None"/> when they are bfloat16
    /// (or any type with float32's exponent range).</summary>
    /// <param name="float16Parameters">Whether the model's trainable parameters are IEEE float16 (5 exponent bits).</param>
    /// <returns>The loss scaling description.</returns>
    public LossScaling LossScalingFor(bool float16Parameters) =>
        LossScaling ?? (float16Parameters ? GradientDiagnostics.LossScaling.Dynamic() : GradientDiagnostics.LossScaling.None);
}
