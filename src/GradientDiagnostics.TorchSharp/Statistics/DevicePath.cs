namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Where a tensor is read: in place through a managed span (dense CPU tensors of the dtypes the core reads), or with
/// libtorch reductions where it lives (everything else: CUDA, sparse, strided). The AppContext switch
/// <see cref="UseDevicePathOnCpuSwitch"/> sends CPU tensors down the device path too, so that the path CUDA users run can
/// be tested and benchmarked on a machine without an accelerator (docs/performance.md, "The device path").
/// </summary>
internal static class DevicePath
{
    /// <summary>The AppContext switch that makes CPU tensors take the device path. Off by default.</summary>
    public const string UseDevicePathOnCpuSwitch = "GradientDiagnostics.TorchSharp.UseDevicePathOnCpu";

    /// <summary>Whether <see cref="UseDevicePathOnCpuSwitch"/> is on. Read where a path is chosen (not cached), so a test
    /// can toggle it; <c>AppContext.TryGetSwitch</c> is a dictionary lookup, far below the cost of any libtorch call.</summary>
    public static bool ForcedOnCpu => AppContext.TryGetSwitch(UseDevicePathOnCpuSwitch, out bool on) && on;
}
