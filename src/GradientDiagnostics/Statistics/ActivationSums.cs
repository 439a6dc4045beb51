namespace GradientDiagnostics.Adapters;

/// <summary>
/// One layer's output sums reduced outside the core (on a device), added to an <see cref="ActivationAccumulator"/> with
/// <see cref="ActivationAccumulator.Add(in ActivationSums, ReadOnlySpan{double})"/>. Counts are doubles because a device
/// reduces them in float64, exact up to 2⁵³ elements.
/// </summary>
/// <param name="Sum">Σz over the elements.</param>
/// <param name="SumOfSquares">Σz² over the elements; NaN or +Infinity when an element is.</param>
/// <param name="Zeros">The number of elements exactly equal to zero.</param>
/// <param name="Saturated">The number of elements in the following activation's saturated range (tanh and sigmoid, with the
/// thresholds of <see cref="LayerObservations"/>); 0 for other activations.</param>
/// <param name="Elements">The number of elements the sums cover.</param>
/// <param name="Rows">The number of samples per unit they cover (elements / units).</param>
public readonly record struct ActivationSums(double Sum, double SumOfSquares, double Zeros, double Saturated, long Elements, long Rows);
