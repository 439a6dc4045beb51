namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// One gradient's norms unit by unit, on its device, from the step's read (<see cref="DeviceReduction.UnitNormsOf"/>):
/// ‖u‖₂, ‖u‖₁ and max|u| per unit, each of shape [units, 1, …] so that it broadcasts over the gradient. Kept, and scaled
/// as the gradient is, through the clipping stage of the same step, so that adaptive clipping reads ‖G_u‖ from here and
/// the clipped gradient's statistics follow from these vectors without another pass over it.
/// </summary>
internal sealed class UnitNorms(torch.Tensor l2, torch.Tensor l1, torch.Tensor max) : IDisposable
{
    /// <summary>‖u‖₂ per unit.</summary>
    public torch.Tensor L2 => l2;

    /// <summary>Scales the three vectors in place by <paramref name="factor"/> (one per unit, the shape of
    /// <see cref="L2"/>), as the gradient's units were: a unit scaled by c ≥ 0 has c times each norm.</summary>
    public void Scale(torch.Tensor factor)
    {
        l2.mul_(factor);
        l1.mul_(factor);
        max.mul_(factor);
    }

    /// <summary>Scales the three vectors in place by <paramref name="coefficient"/> (≥ 0), as the whole gradient was.</summary>
    public void Scale(Scalar coefficient)
    {
        l2.mul_(coefficient);
        l1.mul_(coefficient);
        max.mul_(coefficient);
    }

    /// <summary>Queues the three vectors on <paramref name="transfer"/> in the read's order; returns the first index.</summary>
    public int Queue(HostTransfer transfer)
    {
        int first = transfer.AddVector(l2);
        transfer.AddVector(l1);
        transfer.AddVector(max);
        return first;
    }

    /// <summary>Takes the three tensors out of every dispose scope: this object owns them until <see cref="Dispose"/>.</summary>
    public UnitNorms Detach()
    {
        l2.DetachFromDisposeScope();
        l1.DetachFromDisposeScope();
        max.DetachFromDisposeScope();
        return this;
    }

    /// <summary>Releases the three tensors.</summary>
    public void Dispose()
    {
        l2.Dispose();
        l1.Dispose();
        max.Dispose();
    }
}
