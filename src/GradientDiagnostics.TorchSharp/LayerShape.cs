using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>Reads a layer's fan-in and fan-out from its weight, as PyTorch's <c>_calculate_fan_in_and_fan_out</c> does
/// for the init formulas (He et al. 2015; Glorot &amp; Bengio 2010).</summary>
internal static class LayerShape
{
    public static LayerDescriptor Describe(string name, torch.nn.Module module)
    {
        Parameter? weight = module switch
        {
            Linear linear => linear.weight,
            Convolution => module.named_parameters(recurse: false).FirstOrDefault(p => p.name == "weight").parameter,
            _ => null,
        };
        if (weight is null || weight.dim() < 2)
        {
            return new LayerDescriptor(name);
        }

        // weight: [out, in / groups, k1, k2, …] for Linear (no k) and Conv; the receptive field is Π k.
        long receptive = 1;
        for (int d = 2; d < weight.dim(); d++)
        {
            receptive *= weight.shape[d];
        }

        return new LayerDescriptor(name)
        {
            FanIn = checked((int)(weight.shape[1] * receptive)),
            FanOut = checked((int)(weight.shape[0] * receptive)),
        };
    }
}
