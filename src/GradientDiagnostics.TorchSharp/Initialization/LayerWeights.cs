namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>A layer's weight tensors: its trainable parameters of rank ≥ 2 (biases and normalization vectors are rank 1
/// and are never touched). Frozen parameters are not among a layer's parameters, so they are never changed.</summary>
internal static class LayerWeights
{
    /// <summary>The root mean square over the layer's weight elements; 0 when it has none.</summary>
    public static double RootMeanSquare(ModuleLayer layer)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        double squares = 0;
        long count = 0;
        foreach (torch.Tensor weight in layer.Parameters.Where(p => p.dim() >= 2))
        {
            squares += weight.to_type(torch.ScalarType.Float64).square().sum().item<double>();
            count += weight.numel();
        }

        return count == 0 ? 0 : Math.Sqrt(squares / count);
    }

    /// <summary>Multiplies the layer's weights by <paramref name="factor"/> in place; a factor of 1, or one that is not
    /// finite and positive, changes nothing.</summary>
    public static void Scale(ModuleLayer layer, double factor)
    {
        if (factor == 1 || !double.IsFinite(factor) || factor <= 0)
        {
            return;
        }

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (torch.Tensor weight in layer.Parameters.Where(p => p.dim() >= 2))
        {
            weight.mul_(factor);
        }
    }
}
