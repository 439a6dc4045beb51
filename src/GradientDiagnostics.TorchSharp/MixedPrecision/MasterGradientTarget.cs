using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// The clipping target of a mixed-precision monitor: the fp32 masters' gradients, written from the model's 16-bit ones
/// once per step, <c>master.grad = g₁₆ × (c / S)</c> in fp32, with c the first clipping coefficient the core decides (1 when
/// it decides none) and S the step's loss scale. A global-norm clip therefore costs no pass of its own: the unscale and
/// the clip are one multiply, folded into the conversion to fp32 (fairseq's <c>clip_grad_norm_</c> on fp16 optimizers
/// folds them the same way). Later decisions of a chain (a clamp, AGC, a second scaling) act on the masters' gradients,
/// which are already in unscaled units, through a <see cref="DeviceClippingTarget"/> over the masters.
/// </summary>
internal sealed class MasterGradientTarget : IGradientClippingTarget, IDisposable
{
    private readonly ModuleLayer[] _model;
    private readonly ModuleLayer[] _masters;
    private readonly DeviceClippingTarget _onMasters;
    private readonly GradientStatisticsReader _mastersReader;
    private readonly torch.Tensor?[][] _buffers;
    private double _scale = 1;
    private bool _written = true;

    /// <param name="model">The monitor's layers (replaced in place when the model moves).</param>
    /// <param name="masters">The same layers with the master parameters in place of the model's.</param>
    public MasterGradientTarget(ModuleLayer[] model, ModuleLayer[] masters)
    {
        _model = model;
        _masters = masters;
        _mastersReader = new GradientStatisticsReader(masters);
        _onMasters = new DeviceClippingTarget(masters, _mastersReader);
        _buffers = [.. masters.Select(l => new torch.Tensor?[l.Parameters.Length])];
    }

    /// <summary>The monitor's reader of the model's 16-bit gradients: during a step it holds the <c>p.grad</c> wrappers it
    /// read, so the write into the masters reads none again. Null: read <c>p.grad</c>.</summary>
    internal GradientStatisticsReader? ModelGradients { get; set; }

    /// <summary>Starts a step whose model gradients carry the loss scale <paramref name="scale"/>: nothing written yet.</summary>
    public void Begin(double scale)
    {
        _scale = scale;
        _written = false;
    }

    /// <summary>Writes the masters' gradients with coefficient 1 when no clipping decision wrote them this step.</summary>
    public void Complete() => EnsureWritten();

    public void Scale(ReadOnlySpan<double> layerCoefficients)
    {
        if (_written)
        {
            _onMasters.Scale(layerCoefficients);
        }
        else
        {
            Write(layerCoefficients);
        }
    }

    public void Clamp(double value)
    {
        EnsureWritten();
        _onMasters.Clamp(value);
    }

    public void ClipUnitWise(double clipping, double epsilon, ReadOnlySpan<bool> excludedLayers)
    {
        EnsureWritten();
        _onMasters.ClipUnitWise(clipping, epsilon, excludedLayers);
    }

    public TensorStatistics[] Measure()
    {
        EnsureWritten();
        return _onMasters.Measure();
    }

    public double[] PowerSums(double p)
    {
        EnsureWritten();
        return _onMasters.PowerSums(p);
    }

    /// <summary>Releases the fp32 gradient buffers the masters reuse from step to step, and the masters' reader.</summary>
    public void Dispose()
    {
        _mastersReader.Dispose();
        foreach (torch.Tensor?[] layer in _buffers)
        {
            for (int j = 0; j < layer.Length; j++)
            {
                layer[j]?.Dispose();
                layer[j] = null;
            }
        }
    }

    private void EnsureWritten()
    {
        if (_written)
        {
            return;
        }

        Span<double> ones = _model.Length <= 256 ? stackalloc double[_model.Length] : new double[_model.Length];
        ones.Fill(1);
        Write(ones);
    }

    /// <summary>The one write: every master's gradient becomes g₁₆ × (cᵢ / S), converted to fp32.</summary>
    private void Write(ReadOnlySpan<double> layerCoefficients)
    {
        _written = true;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _model.Length; i++)
        {
            double factor = layerCoefficients[i] / _scale;
            Parameter[] parameters = _model[i].Parameters;
            for (int j = 0; j < parameters.Length; j++)
            {
                Parameter master = _masters[i].Parameters[j];
                torch.Tensor? grad = ModelGradients is null ? parameters[j].grad : ModelGradients.Gradient(i, j);
                if (grad is null)
                {
                    master.grad = null; // no gradient this step: the optimizer skips the master, as it skips the parameter
                    continue;
                }

                master.grad = grad.is_sparse ? grad.to_type(torch.ScalarType.Float32).mul(factor) : WriteDense(i, j, master, grad, factor);
            }
        }
    }

    private torch.Tensor WriteDense(int layer, int index, Parameter master, torch.Tensor grad, double factor)
    {
        torch.Tensor? buffer = _buffers[layer][index];
        if (buffer is null || buffer.device_type != master.device_type || buffer.device_index != master.device_index)
        {
            buffer?.Dispose();
            // Kept from step to step, so a step allocates no gradient memory (zero_grad() only unsets master.grad).
            buffer = torch.empty_like(master).DetachFromDisposeScope();
            _buffers[layer][index] = buffer;
        }

        if (!DevicePath.ForcedOnCpu && grad.device_type == DeviceType.CPU && grad.dtype == torch.ScalarType.Float16 && grad.is_contiguous()
            && buffer.device_type == DeviceType.CPU)
        {
            // One pass over the half values into fp32, then the multiply while the floats are still in cache.
            ReadOnlySpan<Half> source = MemoryMarshal.Cast<byte, Half>(grad.bytes);
            Span<float> target = MemoryMarshal.Cast<byte, float>(buffer.bytes);
            TensorPrimitives.ConvertToSingle(source, target);
            if (factor != 1)
            {
                TensorPrimitives.Multiply(target, (float)factor, target);
            }
        }
        else
        {
            buffer.copy_(grad);
            if (factor != 1)
            {
                buffer.mul_(factor);
            }
        }

        return buffer;
    }
}
