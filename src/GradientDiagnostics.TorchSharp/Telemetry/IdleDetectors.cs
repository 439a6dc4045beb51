using Microsoft.Extensions.Logging;

namespace GradientDiagnostics.TorchSharp;

/// <summary>Says once, at attach, which enabled detectors cannot run without layer outputs, so no default is a silent no-op.</summary>
internal static class IdleDetectors
{
    public static void Report(GradientMonitorOptions options, ILogger logger)
    {
        if (options.CaptureLayerOutputs != false)
        {
            return;
        }

        string[] idle = [.. new (bool Enabled, string Name)[] { (options.Saturation.Enabled, nameof(options.Saturation)),
            (options.DeadUnits.Enabled, nameof(options.DeadUnits)) }
            .Where(d => d.Enabled).Select(d => d.Name)];
        if (idle.Length > 0 && logger.IsEnabled(LogLevel.Information))
        {
            // A failing logger must never break attach. Not self-logged here: the analyzer reports a failing logger once,
            // at its first alert.
            _ = FaultIsolation.Run((Logger: logger, Detectors: string.Join(", ", idle)),
                static s => Log.DetectorsIdle(s.Logger, s.Detectors, nameof(GradientMonitorOptions.CaptureLayerOutputs)));
        }
    }
}
