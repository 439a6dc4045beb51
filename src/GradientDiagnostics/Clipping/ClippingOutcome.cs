namespace GradientDiagnostics;

/// <summary>What clipping did at one step, for the step result.</summary>
internal readonly record struct ClippingOutcome(double NormBefore, double NormAfter, double Coefficient, bool Acted, bool SkipStep);
