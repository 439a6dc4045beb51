namespace GradientDiagnostics;

/// <summary>One monitor's clipping policy, bound from its immutable description (<see cref="GradientClipping.Bind"/>):
/// exclusions resolved against the monitor's layers and, for the adaptive policies, the monitor's own state. Stateless
/// descriptions are their own policy.</summary>
internal interface IClippingPolicy
{
    /// <summary>Decides and applies the policy for one finite step; the clipping stage never calls it on a step whose
    /// gradients or loss hold NaN or ±Infinity.</summary>
    void Apply(ClippingContext context);

    /// <summary>The policy's history, to save with a checkpoint; empty for a policy that keeps none.</summary>
    ComponentState SaveState() => new();

    /// <summary>Restores a state saved by <see cref="SaveState"/>.</summary>
    /// <exception cref="InvalidDataException">An entry this policy keeps is missing or invalid.</exception>
    void LoadState(ComponentState state)
    {
    }
}
