namespace GradientDiagnostics.Adapters;

/// <summary>
/// One forward and one backward pass of a gradient-flow preflight, run by an adapter on its framework's model with every
/// layer it can probe probed. The core calls <see cref="Measure"/> once from <c>GradientFlowPreflight.Check</c>,
/// judges the pass and returns the verdict; the adapter leaves its model as it found it.
/// </summary>
public interface IGradientFlowPass
{
    /// <summary>Runs the pass and measures it.</summary>
    /// <returns>One observation per layer, in forward order, with its output-gradient norm where probed; the loss; the
    /// layers not probed; and, for the float16 check, a host copy of each layer's gradient elements.</returns>
    GradientFlowMeasurement Measure();
}
