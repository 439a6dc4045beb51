namespace GradientDiagnostics.TorchSharp.Preflight;

/// <summary>The preflight's one pass over a TorchSharp model, as the core's <see cref="IGradientFlowPass"/>: the loss
/// closure run once with the probes on every hookable layer, the model restored as found before it returns.</summary>
internal sealed class LossPreflightPass(torch.nn.Module model, ModuleLayer[] layers, Func<torch.Tensor> loss) : IGradientFlowPass
{
    public GradientFlowMeasurement Measure()
    {
        using var pass = new GradientFlowPass(model, layers);
        LayerObservation[] observations = pass.Measure(loss, requireScalar: true, out double? lossValue);
        return new GradientFlowMeasurement
        {
            Observations = observations,
            Loss = lossValue,
            UnprobedLayers = pass.Unprobed(observations),
            Gradients = pass.CopyGradients(),
        };
    }
}
