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
        return DescribeWeight(name, weight);
    }

    /// <summary>Fan-in/out from a weight of shape [out, in / groups, k1, k2, …] (Linear: no k; Conv; the in-projection
    /// [3·d, d] of attention); unknown for a missing or one-dimensional weight (norms, biases).</summary>
    public static LayerDescriptor DescribeWeight(string name, Parameter? weight)
    {
        if (weight is null || weight.dim() < 2)
        {
            return new LayerDescriptor(name);
        }

        // The receptive field is Π k.
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
