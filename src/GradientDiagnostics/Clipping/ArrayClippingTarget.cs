using System.Numerics.Tensors;

namespace GradientDiagnostics;

/// <summary>
/// The CPU implementation of <see cref="IGradientClippingTarget"/> over plain arrays: each layer is a list of parameters,
/// each a gradient array, its weight array and its number of AGC units. It applies the core's decisions with span
/// primitives and is the reference the adapter's on-device implementation is tested against.
/// </summary>
internal sealed class ArrayClippingTarget(ArrayClippingTarget.Parameter[][] layers) : IGradientClippingTarget
{
    /// <summary>One parameter: its gradient, its values, and how many units (rows / output filters) it has for AGC.</summary>
    internal sealed record Parameter(float[] Gradient, float[] Weight, int Units);

    public Parameter[][] Layers => layers;

    /// <summary>The observations an adapter would give the analyzer for these gradients.</summary>
    public LayerObservation[] Observe() => [.. Measure().Select(s => new LayerObservation(s))];

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

    public void Clamp(double value)
    {
        foreach (Parameter p in layers.SelectMany(l => l))
        {
            TensorPrimitives.Clamp(p.Gradient, (float)-value, (float)value, p.Gradient);
        }
    }

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

    public TensorStatistics[] Measure() =>
        [.. layers.Select(l => l.Aggregate(default(TensorStatistics), (all, p) => TensorStatistics.Combine(all, TensorStatistics.Compute(p.Gradient))))];

    public double[] PowerSums(double p) =>
        [.. layers.Select(l => l.Sum(parameter => parameter.Gradient.Sum(x => Math.Pow(Math.Abs((double)x), p))))];
}
