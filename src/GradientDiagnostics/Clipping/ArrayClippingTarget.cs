using System.Numerics.Tensors;

namespace GradientDiagnostics.Adapters;

/// <summary>
/// The CPU implementation of <see cref="IGradientClippingTarget"/> over plain arrays: each layer is a list of parameters,
/// each a gradient array, its weight array and its number of AGC units. It applies the core's decisions in place with
/// span primitives; it is the public reference for adapters, and the one the TorchSharp adapter's on-device
/// implementation is tested against.
/// </summary>
/// <param name="layers">The layers in forward order, each a list of parameters; the arrays are changed in place.</param>
public sealed class ArrayClippingTarget(ArrayClippingTarget.Parameter[][] layers) : IGradientClippingTarget
{
    /// <summary>One parameter: its gradient, its values, and how many units (rows / output filters) it has for AGC.</summary>
    /// <param name="Gradient">The gradient elements, changed in place by clipping.</param>
    /// <param name="Weight">The parameter's values (the weights), read by adaptive clipping; the same length as the gradient.</param>
    /// <param name="Units">The number of AGC units: rows of a Linear weight, output filters of a Conv weight, 1 for a
    /// 1-D tensor; the gradient's length must be a multiple of it.</param>
    public sealed record Parameter(float[] Gradient, float[] Weight, int Units);

    /// <summary>The layers in forward order, as given.</summary>
    public IReadOnlyList<Parameter[]> Layers => layers;

    /// <summary>The observations an adapter would give the analyzer for these gradients.</summary>
    public LayerObservation[] Observe() => [.. Measure().Select(s => new LayerObservation(s))];

    /// <inheritdoc/>
    public void Scale(ReadOnlySpan<double> layerCoefficients)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            if (layerCoefficients[i] != 1)
            {
                foreach (Parameter p in layers[i])
                {
                    TensorPrimitives.Multiply(p.Gradient, (float)layerCoefficients[i], p.Gradient);
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Clamp(double value)
    {
        foreach (Parameter p in layers.SelectMany(l => l))
        {
            TensorPrimitives.Clamp(p.Gradient, (float)-value, (float)value, p.Gradient);
        }
    }

    /// <inheritdoc/>
    public void ClipUnitWise(double clipping, double epsilon, ReadOnlySpan<bool> excludedLayers)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            if (!excludedLayers[i])
            {
                foreach (Parameter p in layers[i])
                {
                    AdaptiveGradientClipping.ClipUnits(p.Gradient, p.Weight, p.Units, clipping, epsilon);
                }
            }
        }
    }

    /// <inheritdoc/>
    public TensorStatistics[] Measure() =>
        [.. layers.Select(l => l.Aggregate(default(TensorStatistics), (all, p) => TensorStatistics.Combine(all, TensorStatistics.Compute(p.Gradient))))];

    /// <inheritdoc/>
    public double[] PowerSums(double p) =>
        [.. layers.Select(l => l.Sum(parameter => parameter.Gradient.Sum(x => Math.Pow(Math.Abs((double)x), p))))];
}
