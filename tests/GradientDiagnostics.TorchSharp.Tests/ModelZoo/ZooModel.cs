using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.ModelZoo;

/// <summary>A real architecture with a tiny synthetic task: its model, one step's loss, and a deep parameter to corrupt.</summary>
internal abstract class ZooModel : IDisposable
{
    /// <summary>The model the monitor is attached to.</summary>
    public abstract nn.Module Model { get; }

    /// <summary>The full name (as in <c>named_parameters()</c>) of a parameter deep in the model, for the NaN check.</summary>
    public abstract string DeepParameter { get; }

    /// <summary>Draws a batch from <paramref name="generator"/>, runs the forward pass and returns the loss.</summary>
    public abstract Tensor Loss(Generator generator);

    public void Dispose() => Model.Dispose();
}
