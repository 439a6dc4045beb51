using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// The <c>retain_grad</c> lifecycle of one probed layer: keeps each captured output (outside every dispose scope) with
/// its gradient retained by libtorch, reads ‖∂L/∂y‖² from the outputs whose backward has run, and releases them. Backward
/// runs no managed code. Not thread-safe: the owning <see cref="LayerProbe"/> calls it under its lock.
/// </summary>
internal sealed class RetainedOutputGradients
{
    private readonly List<torch.Tensor> _retained = [];
    private double _hostSquares;
    private bool _hasHostSquares;
    private torch.Tensor? _deviceSquares;
    private int _offset = -1;

    /// <summary>Keeps <paramref name="output"/> with its gradient retained and returns an alias for downstream
    /// (<c>Sequential</c> disposes what it hands on, and a user's scope may end before the step). Reads the gradients of
    /// earlier calls whose backward has run, so gradient accumulation keeps at most about one micro-batch of outputs.
    /// An output outside autograd (a leaf, or no grad) is returned as it is.</summary>
    public torch.Tensor Retain(torch.Tensor output)
    {
        if (!output.requires_grad || output.is_leaf)
        {
            return output;
        }

        output.retain_grad();
        torch.Tensor downstream = output.alias();
        output.DetachFromDisposeScope();
        Read(all: false);
        _retained.Add(output);
        return downstream;
    }

    /// <summary>Reads every retained gradient that arrived, releases every retained output, and queues the device part
    /// of ‖∂L/∂y‖² on the step's transfer.</summary>
    public void Queue(HostTransfer transfer)
    {
        Read(all: true);
        _offset = _deviceSquares is null ? -1 : transfer.Add(_deviceSquares.alias());
    }

    /// <summary>‖∂L/∂y‖ over every captured output of the step, or null when no gradient reached any of them.</summary>
    public double? Norm(ReadOnlySpan<double> host) =>
        _hasHostSquares || _offset >= 0 ? Math.Sqrt(_hostSquares + (_offset < 0 ? 0 : host[_offset])) : null;

    /// <summary>Releases the retained outputs and forgets the step's sums.</summary>
    public void Reset()
    {
        foreach (torch.Tensor output in _retained)
        {
            output.Dispose();
        }

        _retained.Clear();
        _deviceSquares?.Dispose();
        _deviceSquares = null;
        _hostSquares = 0;
        _hasHostSquares = false;
        _offset = -1;
    }

    /// <summary>Adds ‖∂L/∂y‖² of the retained outputs whose gradient has arrived (<paramref name="all"/>: and releases
    /// every retained output, whether or not backward reached it).</summary>
    private void Read(bool all)
    {
        for (int i = _retained.Count - 1; i >= 0; i--)
        {
            torch.Tensor output = _retained[i];
            torch.Tensor? gradient = output.IsInvalid ? null : output.grad;
            if (gradient is not null)
            {
                using (gradient)
                {
                    Add(gradient);
                }
            }

            if (gradient is not null || all)
            {
                output.Dispose();
                _retained.RemoveAt(i);
            }
        }
    }

    /// <summary>Adds one output gradient's ‖g‖²: in place on the CPU, else on its device (no host sync here).</summary>
    private void Add(torch.Tensor gradient)
    {
        if (LayerProbe.ReadsInPlace(gradient))
        {
            TensorStatistics squares = TensorStatistics.Compute(MemoryMarshal.Cast<byte, float>(gradient.bytes));
            _hostSquares += squares.IsFinite ? squares.SumOfSquares : squares.L2Norm; // NaN or +Infinity propagate
            _hasHostSquares = true;
            return;
        }

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        // ‖g‖ by linalg.vector_norm: no full-size temporary, accumulated in float32 (16-bit gradients widened first, as
        // their norm would keep their dtype and overflow); squared in float64 on the (one-element) result.
        torch.Tensor values = gradient.dtype is torch.ScalarType.Float16 or torch.ScalarType.BFloat16 ? gradient.to_type(torch.ScalarType.Float32) : gradient;
        _deviceSquares = DeviceActivationReduction.Accumulate(_deviceSquares, torch.linalg.vector_norm(values, 2).to_type(torch.ScalarType.Float64).pow_(2));
    }
}
