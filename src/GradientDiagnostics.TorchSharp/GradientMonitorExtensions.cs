using Microsoft.Extensions.Logging;

namespace GradientDiagnostics.TorchSharp;

/// <summary>Attaches gradient monitors to TorchSharp modules.</summary>
public static class GradientMonitorExtensions
{
    /// <summary>
    /// Attaches a gradient monitor to a model. The monitor finds the model's layers (the modules that own trainable
    /// parameters, named by module path) and, at each <see cref="GradientMonitor.Step"/>, measures their gradients,
    /// logs and raises alerts, and says whether the optimizer step is safe to apply.
    /// </summary>
    /// <param name="module">The model.</param>
    /// <param name="configure">Sets options; they are validated before this method returns.</param>
    /// <param name="logger">Where alerts are logged; nothing is logged when null.</param>
    /// <returns>The monitor; dispose it to detach.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="module"/> is null.</exception>
    /// <exception cref="ArgumentException">The module has no trainable parameters.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Options are out of range; the message names each.</exception>
    public static GradientMonitor AttachGradientMonitor(this torch.nn.Module module, Action<GradientMonitorOptions>? configure = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var options = new GradientMonitorOptions();
        configure?.Invoke(options);
        options.Validate();
        return new GradientMonitor(module, options, logger);
    }

    /// <summary>
    /// Attaches a gradient monitor configured by an options object, for example a preset:
    /// <c>model.AttachGradientMonitor(GradientMonitorOptions.Quiet())</c>. The options are validated and copied here:
    /// changing the object afterwards has no effect on the running monitor.
    /// </summary>
    /// <param name="module">The model.</param>
    /// <param name="options">The options.</param>
    /// <param name="logger">Where alerts are logged; nothing is logged when null.</param>
    /// <returns>The monitor; dispose it to detach.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="module"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The module has no trainable parameters.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Options are out of range; the message names each.</exception>
    public static GradientMonitor AttachGradientMonitor(this torch.nn.Module module, GradientMonitorOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new GradientMonitor(module, options, logger);
    }
}
