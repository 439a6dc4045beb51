using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>
/// Which of the monitor's read paths a benchmark measures: <c>managed</c> (the default on the CPU: float32 and 16-bit
/// gradients read through managed spans), <c>device</c> (the path CUDA gradients take, forced on CPU tensors) or
/// <c>float64</c> (a float64 copy of the model, on whatever path the monitor picks for it by default: the span read) or
/// <c>float64-device</c> (the same model with the device path forced: the alternative the monitor did not pick).
/// </summary>
/// <remarks>The device path is forced with the AppContext switch <see cref="SwitchName"/>.</remarks>
internal sealed record GradientPath(string Name, ScalarType? ModelType, bool ForceDevice)
{
    /// <summary>The AppContext switch that makes CPU tensors take the device path.</summary>
    public const string SwitchName = "GradientDiagnostics.TorchSharp.UseDevicePathOnCpu";

    public static readonly GradientPath Managed = new("managed", null, false);

    public static readonly GradientPath Device = new("device", null, true);

    public static readonly GradientPath Float64 = new("float64", ScalarType.Float64, false);

    public static readonly GradientPath Float64Device = new("float64-device", ScalarType.Float64, true);

    public static GradientPath Parse(string? name) => name switch
    {
        null or "managed" => Managed,
        "device" => Device,
        "float64" => Float64,
        "float64-device" => Float64Device,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Paths: managed, device, float64, float64-device."),
    };

    /// <summary>Sets the AppContext switch to this path's choice; disposing sets it back to off.</summary>
    public IDisposable Enter()
    {
        AppContext.SetSwitch(SwitchName, ForceDevice);
        return new SwitchOff();
    }

    private sealed class SwitchOff : IDisposable
    {
        public void Dispose() => AppContext.SetSwitch(SwitchName, false);
    }
}
