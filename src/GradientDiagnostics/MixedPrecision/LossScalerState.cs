namespace GradientDiagnostics;

/// <summary>The state of a <see cref="LossScaler"/>, to save with a checkpoint and restore with it
/// (<see cref="LossScaler.Restore"/>): GradScaler's <c>state_dict()</c> holds the same two numbers.</summary>
/// <param name="Scale">The loss scale of the next step.</param>
/// <param name="CleanSteps">The clean (finite) steps in a row since the last growth or overflow (GradScaler's
/// <c>_growth_tracker</c>).</param>
public readonly record struct LossScalerState(double Scale, int CleanSteps);
