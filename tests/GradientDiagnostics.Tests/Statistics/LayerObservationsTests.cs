using System.Numerics.Tensors;

namespace GradientDiagnostics.Tests.Statistics;

public sealed class LayerObservationsTests
{
    [Fact]
    public void Create_measures_gradient_weights_and_update_from_arrays()
    {
        float[] gradient = [3, -4], before = [1, 1, 1], after = [1, 3, 1];

        LayerObservation o = LayerObservations.Create(gradient, after, before, outputGradientNorm: 0.5);

        Assert.Equal(5, o.Gradient.L2Norm, 1e-12);
        Assert.Equal(Math.Sqrt(11), o.Parameters!.Value.L2Norm, 1e-12);
        Assert.Equal(2, o.ParameterUpdateNorm!.Value, 1e-12);
        Assert.Equal(0.5, o.OutputGradientNorm);
        Assert.Null(LayerObservations.Create(gradient).Parameters);
        Assert.Throws<ArgumentException>(() => LayerObservations.Create(gradient, after, [1f]));
    }

    [Fact]
    public void Tensor_span_overload_equals_the_array_overload_for_strided_views()
    {
        var weights = Tensor.Create([.. Enumerable.Range(0, 12).Select(i => (float)i)], [3, 4]);
        ReadOnlyTensorSpan<float> view = weights.AsReadOnlyTensorSpan()[.., 1..3];
        float[] dense = new float[view.FlattenedLength];
        view.FlattenTo(dense);
        var gradient = Tensor.Create([1f, 2f], [2]);

        LayerObservation fromTensors = LayerObservations.Create(gradient.AsReadOnlyTensorSpan(), view, default);

        Assert.Equal(LayerObservations.Create([1f, 2f], dense), fromTensors);
    }

    [Fact]
    public void Activation_summary_uses_the_sagemaker_saturation_thresholds_and_counts_active_units()
    {
        // Two samples × three units.
        float[] tanh = [9.5f, -9.4f, 0f, -9.6f, 1f, 2f];
        float[] sigmoid = [-23.5f, 17f, 16.9f, 0f, -22f, 3f];

        ActivationStatistics t = LayerObservations.SummarizeActivations(tanh, 3, ActivationKind.Tanh);
        ActivationStatistics s = LayerObservations.SummarizeActivations(sigmoid, 3, ActivationKind.Sigmoid);
        ActivationStatistics r = LayerObservations.SummarizeActivations(tanh, 3, ActivationKind.ReLU);

        Assert.Equal(2.0 / 6, t.SaturatedFraction!.Value, 1e-12);
        Assert.Equal(2.0 / 6, s.SaturatedFraction!.Value, 1e-12);
        Assert.Null(r.SaturatedFraction);
        Assert.Equal([0.5f, 0.5f, 0.5f], r.UnitActiveFraction.ToArray());
        Assert.Equal(1.0 / 6, r.ZeroFraction, 1e-12);
        double mean = tanh.Average(v => (double)v);
        Assert.Equal(tanh.Average(v => ((double)v - mean) * ((double)v - mean)), r.Variance, 1e-9);
        Assert.Equal(r.UnitActiveFraction.ToArray(), LayerObservations.SummarizeActivations(Tensor.Create(tanh, [2, 3]).AsReadOnlyTensorSpan(), ActivationKind.ReLU).UnitActiveFraction.ToArray());
    }
}
