namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// An identity autograd function placed on a probed layer's output: forward returns an alias of the output, backward
/// passes ∂L/∂y through unchanged and hands it to the layer's <see cref="LayerProbe"/>, which reduces it on the device.
/// TorchSharp has no tensor or module backward hooks; this is the supported way to see ∂L/∂y.
/// </summary>
/// <remarks>TorchSharp keeps one shared instance per function type, so the probe travels as the second forward argument
/// and is kept in the autograd context.</remarks>
internal sealed class OutputGradientProbe : torch.autograd.SingleTensorFunction<OutputGradientProbe>
{
    private const string ProbeKey = "probe";

    public override string Name => "GradientDiagnostics.OutputGradientProbe";

    public override torch.Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.save_data(ProbeKey, vars[1]);
        return ((torch.Tensor)vars[0]).alias();
    }

    public override List<torch.Tensor> backward(torch.autograd.AutogradContext ctx, torch.Tensor grad_output)
    {
        ((LayerProbe)ctx.get_data(ProbeKey)).AddOutputGradient(grad_output);
        return [grad_output, null!];
    }
}
