namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>
/// Sets the process-wide AppContext switch <c>GradientDiagnostics.TorchSharp.UseDevicePathOnCpu</c> for a test and restores
/// its previous value on dispose. The switch is process-wide: this assembly runs its tests one at a time
/// (AssemblyInfo.cs), so no other test sees it set.
/// </summary>
internal sealed class DevicePathSwitch : IDisposable
{
    private readonly bool _before;

    private DevicePathSwitch(bool on)
    {
        _before = DevicePath.ForcedOnCpu;
        AppContext.SetSwitch(DevicePath.UseDevicePathOnCpuSwitch, on);
    }

    /// <summary>Sets the switch to <paramref name="on"/> until the result is disposed.</summary>
    public static DevicePathSwitch Set(bool on = true) => new(on);

    public void Dispose() => AppContext.SetSwitch(DevicePath.UseDevicePathOnCpuSwitch, _before);
}
