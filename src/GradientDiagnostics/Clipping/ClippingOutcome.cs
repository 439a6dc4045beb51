namespace GradientDiagnostics;

/// <summary>What clipping did at one step, for the step result and the detectors that read it.</summary>
/// <param name="NormBefore">The total norm before clipping (NaN or +Infinity on a non-finite step).</param>
/// <param name="NormAfter">The total norm after clipping.</param>
/// <param name="Coefficient">The factor all gradients were scaled by (1 when none).</param>
/// <param name="Acted">Whether the gradients were changed.</param>
/// <param name="SkipStep">Whether the policy marked the step as skipped.</param>
/// <param name="Ran">Whether the policy ran; false on a non-finite step, whose gradients are never touched.</param>
internal readonly record struct ClippingOutcome(double NormBefore, double NormAfter, double Coefficient, bool Acted, bool SkipStep, bool Ran);
