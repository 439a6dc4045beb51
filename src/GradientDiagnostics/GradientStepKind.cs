namespace GradientDiagnostics;

/// <summary>How much a monitor measured at one step (see <see cref="GradientMonitorOptions.FullStatisticsInterval"/>).</summary>
public enum GradientStepKind
{
    /// <summary>The per-step check only: the gradients' statistics (global and per-layer norms, NaN / ±Infinity counts)
    /// and the loss. Layer outputs, activations and parameters are not measured.</summary>
    Cheap = 0,

    /// <summary>Everything the cheap step measures plus, where enabled, the layer-output probes (‖∂L/∂y‖ per layer and
    /// the depth profile), the activation statistics, the parameters' statistics and the parameter update norms.</summary>
    Full = 1,
}
