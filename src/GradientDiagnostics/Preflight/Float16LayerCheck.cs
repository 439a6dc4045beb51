namespace GradientDiagnostics;

/// <summary>What storing one layer's float32 gradients in float16 would do to them (a preflight figure, at loss scale 1).</summary>
public sealed class Float16LayerCheck
{
    internal Float16LayerCheck(string name, double underflowFraction, double subnormalFraction)
    {
        Name = name;
        UnderflowFraction = underflowFraction;
        SubnormalFraction = subnormalFraction;
    }

    /// <summary>The layer's module path.</summary>
    public string Name { get; }

    /// <summary>The fraction of the layer's gradient elements that are nonzero in float32 and would round to 0 in float16
    /// (|g| ≤ 2⁻²⁵, half float16's smallest subnormal), in [0, 1].</summary>
    public double UnderflowFraction { get; }

    /// <summary>The fraction of the layer's gradient elements that would be stored as float16 subnormals (nonzero, below
    /// 2⁻¹⁴ after rounding: fewer than 11 significant bits), in [0, 1].</summary>
    public double SubnormalFraction { get; }
}
