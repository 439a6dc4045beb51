using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GradientDiagnostics.Adapters;

/// <summary>
/// The CPU implementation of the gradient source: builds a <see cref="LayerObservation"/> (and its
/// <see cref="ActivationStatistics"/>) from plain arrays, spans or tensor spans, so the whole engine runs on data held
/// in managed memory. Pass one observation per layer, in forward order, to <see cref="GradientAnalyzer.Analyze"/>.
/// </summary>
/// <example>
/// <code>
/// var analyzer = new GradientAnalyzer(descriptors, new GradientMonitorOptions());
/// LayerObservation[] step = [.. layers.Select(l => LayerObservations.Create(l.Grad, l.Weights, l.PreviousWeights)
///     with { Activations = LayerObservations.SummarizeActivations(l.PreActivations, l.Units, l.Activation) })];
/// GradientStepResult result = analyzer.Analyze(step, loss);
/// </code>
/// </example>
public static class LayerObservations
{
    /// <summary>tanh saturates beyond |x| &gt; 9.4999 (SageMaker Debugger SaturatedActivation): tanh(x) rounds to ±1 in float32.</summary>
    public const double TanhSaturationThreshold = 9.4999;

    /// <summary>Sigmoid saturates below this pre-activation (SageMaker Debugger SaturatedActivation).</summary>
    public const double SigmoidSaturationLow = -23;

    /// <summary>Sigmoid saturates above this pre-activation (SageMaker Debugger SaturatedActivation).</summary>
    public const double SigmoidSaturationHigh = 16.99999;

    /// <summary>Observes one layer from its gradient and, optionally, its weights before and after the optimizer step.</summary>
    /// <param name="gradient">All the layer's parameter-gradient elements (∂L/∂θ), concatenated in any order.</param>
    /// <param name="parameters">The layer's parameters θ in the same order; empty when not measured.</param>
    /// <param name="previousParameters">The parameters one optimizer step earlier, in the same order; when given (same
    /// length as <paramref name="parameters"/>) <see cref="LayerObservation.ParameterUpdateNorm"/> is ‖θ − θ_prev‖₂.</param>
    /// <param name="outputGradientNorm">‖∂L/∂y‖₂ of the layer's output, when probed.</param>
    /// <exception cref="ArgumentException"><paramref name="previousParameters"/> is not empty and its length differs from
    /// <paramref name="parameters"/>.</exception>
    public static LayerObservation Create(ReadOnlySpan<float> gradient, ReadOnlySpan<float> parameters = default,
        ReadOnlySpan<float> previousParameters = default, double? outputGradientNorm = null)
    {
        if (!previousParameters.IsEmpty && previousParameters.Length != parameters.Length)
        {
            throw new ArgumentException($"The previous parameters have {previousParameters.Length} elements but the parameters have {parameters.Length}.",
                nameof(previousParameters));
        }

        return new LayerObservation(TensorStatistics.Compute(gradient))
        {
            Parameters = parameters.IsEmpty ? null : TensorStatistics.Compute(parameters),
            ParameterUpdateNorm = previousParameters.IsEmpty ? null : UpdateNorm(previousParameters, parameters),
            OutputGradientNorm = outputGradientNorm,
        };
    }

    /// <summary>Observes one layer from tensor spans of any layout; see
    /// <see cref="Create(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, double?)"/>.</summary>
    /// <param name="gradient">The layer's parameter gradient.</param>
    /// <param name="parameters">The layer's parameters; an empty span when not measured.</param>
    /// <param name="previousParameters">The parameters one optimizer step earlier (same shape); an empty span when not measured.</param>
    /// <param name="outputGradientNorm">‖∂L/∂y‖₂ of the layer's output, when probed.</param>
    public static LayerObservation Create(in ReadOnlyTensorSpan<float> gradient, in ReadOnlyTensorSpan<float> parameters,
        in ReadOnlyTensorSpan<float> previousParameters, double? outputGradientNorm = null) =>
        Create(Dense(gradient), Dense(parameters), Dense(previousParameters), outputGradientNorm);

    /// <summary>‖after − before‖₂, accumulated in double precision.</summary>
    /// <param name="before">The parameters before the optimizer step.</param>
    /// <param name="after">The parameters after it, in the same order.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double UpdateNorm(ReadOnlySpan<float> before, ReadOnlySpan<float> after)
    {
        if (before.Length != after.Length)
        {
            throw new ArgumentException($"The spans have {before.Length} and {after.Length} elements.", nameof(after));
        }

        double sum = 0;
        for (int i = 0; i < before.Length; i++)
        {
            double d = (double)after[i] - before[i];
            sum += d * d;
        }

        return Math.Sqrt(sum);
    }

    /// <summary>Summarizes a layer's output before its activation, laid out row-major as [samples, units] (a Linear
    /// output, or any layout whose last dimension is the unit).</summary>
    /// <param name="preActivations">The layer's output z, before the following activation φ.</param>
    /// <param name="units">The number of units (the last dimension); must divide the length.</param>
    /// <param name="following">The activation applied to z; it sets the saturated range and whether a unit is active.</param>
    /// <returns>Mean and variance of z, its zero fraction, the saturated fraction (tanh and sigmoid only, SageMaker
    /// Debugger thresholds), and per unit the fraction of samples on which φ(z) &gt; 0 (z &gt; 0; always for sigmoid).</returns>
    /// <exception cref="ArgumentException"><paramref name="units"/> is not positive or does not divide the length.</exception>
    public static ActivationStatistics SummarizeActivations(ReadOnlySpan<float> preActivations, int units, ActivationKind following)
    {
        if (units <= 0 || preActivations.Length % units != 0)
        {
            throw new ArgumentException($"{units} units do not divide {preActivations.Length} elements.", nameof(units));
        }

        if (preActivations.IsEmpty)
        {
            return new ActivationStatistics { UnitActiveFraction = new float[units] };
        }

        var accumulator = new ActivationAccumulator(following, measureActivity: true);
        accumulator.Add(preActivations, units, inner: 1);
        return accumulator.ToStatistics()!;
    }

    /// <summary>Summarizes a layer's pre-activation output of any layout whose last dimension is the unit.</summary>
    /// <param name="preActivations">The layer's output z, before the following activation.</param>
    /// <param name="following">The activation applied to z.</param>
    public static ActivationStatistics SummarizeActivations(in ReadOnlyTensorSpan<float> preActivations, ActivationKind following)
    {
        ReadOnlySpan<nint> lengths = preActivations.Lengths;
        int units = lengths.Length == 0 ? 1 : (int)lengths[^1];
        return SummarizeActivations(Dense(preActivations), Math.Max(units, 1), following);
    }

    private static ReadOnlySpan<float> Dense(in ReadOnlyTensorSpan<float> values)
    {
        if (values.FlattenedLength == 0)
        {
            return [];
        }

        if (values.IsDense && values.FlattenedLength <= int.MaxValue)
        {
            return MemoryMarshal.CreateReadOnlySpan(in values.GetPinnableReference(), (int)values.FlattenedLength);
        }

        float[] dense = new float[values.FlattenedLength];
        values.FlattenTo(dense);
        return dense;
    }
}
