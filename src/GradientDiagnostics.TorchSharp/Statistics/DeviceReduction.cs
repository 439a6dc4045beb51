namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// The device half of the statistics pass: reduces one tensor where it lives to the numbers
/// <see cref="TensorStatisticsCollector"/> reads back with the step's host transfer. float32 and float64 tensors are
/// reduced in float64; 16-bit tensors in float32 (never squared or summed in 16 bits), with the zero-or-subnormal count
/// measured on the values as stored.
/// </summary>
internal static class DeviceReduction
{
    /// <summary>float16's smallest normal, 2⁻¹⁴, and bfloat16's (float32's), 2⁻¹²⁶, as float32.</summary>
    private const float Float16MinNormal = 6.1035156e-05f, BFloat16MinNormal = 1.17549435e-38f;

    /// <summary>The format of a torch dtype, as far as the diagnostics care.</summary>
    internal static NumericFormat FormatOf(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float32 => NumericFormat.Float32,
        torch.ScalarType.Float64 => NumericFormat.Float64,
        torch.ScalarType.Float16 => NumericFormat.Float16,
        torch.ScalarType.BFloat16 => NumericFormat.BFloat16,
        _ => NumericFormat.Unknown,
    };

    /// <summary>Reduces one tensor on its device to the seven statistics, in float64, over its finite elements.</summary>
    public static torch.Tensor Reduce(torch.Tensor tensor)
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

    /// <summary>Reduces a float16 or bfloat16 tensor on its device, in float32, to the seven statistics plus its count
    /// of elements that are ±0 or subnormal as stored. Float16 squares fit float32 (65504² ≈ 4.3e9); bfloat16 has
    /// float32's range, so its magnitudes are divided by their max before squaring and the sums multiplied back in float64.</summary>
    public static torch.Tensor ReduceSixteenBit(torch.Tensor tensor, NumericFormat format)
    {
        torch.Tensor dense = tensor.is_sparse ? tensor.to_dense() : tensor;
        torch.Tensor values = dense.detach().to_type(torch.ScalarType.Float32);
        torch.Tensor absolute = values.abs();
        torch.Tensor magnitude = torch.where(torch.isfinite(values), absolute, 0f);
        torch.Tensor max = values.numel() == 0 ? torch.zeros(1, torch.ScalarType.Float32, values.device).squeeze() : magnitude.max();
        torch.Tensor squares, sum;
        if (format == NumericFormat.Float16)
        {
            (squares, sum) = (magnitude.square().sum().to_type(torch.ScalarType.Float64), magnitude.sum().to_type(torch.ScalarType.Float64));
        }
        else
        {
            torch.Tensor unit = magnitude / max.clamp_min(float.Epsilon);
            torch.Tensor scale = max.to_type(torch.ScalarType.Float64);
            (squares, sum) = (unit.square().sum().to_type(torch.ScalarType.Float64) * scale.square(), unit.sum().to_type(torch.ScalarType.Float64) * scale);
        }

        float minNormal = format == NumericFormat.Float16 ? Float16MinNormal : BFloat16MinNormal;
        return torch.stack(
        [
            torch.tensor((double)values.numel(), torch.ScalarType.Float64, values.device),
            squares,
            sum,
            max.to_type(torch.ScalarType.Float64),
            values.eq(0).sum().to_type(torch.ScalarType.Float64),
            torch.isnan(values).sum().to_type(torch.ScalarType.Float64),
            torch.isinf(values).sum().to_type(torch.ScalarType.Float64),
            absolute.lt(minNormal).sum().to_type(torch.ScalarType.Float64),
        ]);
    }
}
