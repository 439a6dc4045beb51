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
/// <para>The masters' gradients are views into one flat fp32 buffer per device, allocated when mixed precision is enabled
/// (so no step allocates gradient memory) and kept from step to step. On the device path a step with one coefficient for
/// every layer (no clipping, or a global-norm clip) converts each gradient with <c>copy_</c> and then multiplies each
/// buffer once, <c>flat.mul_(c / S)</c>: one op per device rather than one per parameter tensor.</para>
/// </summary>
internal sealed class MasterGradientTarget : IGradientClippingTarget, IDisposable
{
    private readonly ModuleLayer[] _model;
    private readonly ModuleLayer[] _masters;
    private readonly DeviceClippingTarget _onMasters;
    private readonly GradientStatisticsReader _mastersReader;
    private readonly torch.Tensor?[][] _buffers;
    private readonly List<torch.Tensor> _flats = [];
    private readonly List<torch.Tensor> _deferred = [];
    private readonly int _bufferCount;
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
        _bufferCount = _buffers.Sum(l => l.Length);
        AllocateBuffers();
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
        ReleaseBuffers();
    }

    private void ReleaseBuffers()
    {
        foreach (torch.Tensor?[] layer in _buffers)
        {
            for (int j = 0; j < layer.Length; j++)
            {
                layer[j]?.Dispose();
                layer[j] = null;
            }
        }

        foreach (torch.Tensor flat in _flats)
        {
            flat.Dispose();
        }

        _flats.Clear();
    }

    /// <summary>(Re)allocates the flat fp32 buffer of each device the masters live on and makes every master's gradient
    /// buffer a view into it: at construction, and again if the masters have moved.</summary>
    private void AllocateBuffers()
    {
        ReleaseBuffers();
        using var scope = torch.NewDisposeScope();
        foreach (IGrouping<(DeviceType, int), (int Layer, int Index, Parameter Master)> device in _masters
            .SelectMany((l, i) => l.Parameters.Select((m, j) => (Layer: i, Index: j, Master: m)))
            .GroupBy(e => (e.Master.device_type, e.Master.device_index)))
        {
            long total = device.Sum(e => e.Master.numel());
            // zeros, not empty: the pages are touched (resident) here, when mixed precision is enabled, not in a step.
            torch.Tensor flat = torch.zeros(total, torch.ScalarType.Float32, device.First().Master.device).DetachFromDisposeScope();
            _flats.Add(flat);
            long offset = 0;
            foreach ((int layer, int index, Parameter master) in device)
            {
                long elements = master.numel();
                _buffers[layer][index] = flat.narrow(0, offset, elements).view(master.shape).DetachFromDisposeScope();
                offset += elements;
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

    /// <summary>The one write: every master's gradient becomes g₁₆ × (cᵢ / S), converted to fp32. When every layer has
    /// the same coefficient and every dense master is written on the device path, the multiply is one <c>mul_</c> per flat
    /// buffer after the conversions.</summary>
    private void Write(ReadOnlySpan<double> layerCoefficients)
    {
        _written = true;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        if (!BuffersFollowMasters())
        {
            AllocateBuffers();
        }

        // One coefficient for every layer: on the device path the multiply waits for one mul_ per flat buffer.
        bool uniform = layerCoefficients.Length > 0 && !layerCoefficients.ContainsAnyExcept(layerCoefficients[0]);
        double deferred = uniform ? layerCoefficients[0] / _scale : 1;
        _deferred.Clear();
        for (int i = 0; i < _model.Length; i++)
        {
            double factor = layerCoefficients[i] / _scale;
            Parameter[] parameters = _model[i].Parameters;
            for (int j = 0; j < parameters.Length; j++)
            {
                Parameter master = _masters[i].Parameters[j];
                torch.Tensor? grad = ModelGradients is null ? parameters[j].grad : ModelGradients.Gradient(i, j);
                if (grad is null || grad.is_sparse)
                {
                    // No gradient this step (null): the optimizer skips the master, as it skips the parameter. A sparse
                    // gradient is converted on its own, outside the flat buffer.
                    master.grad = grad?.to_type(torch.ScalarType.Float32).mul(factor);
                    continue;
                }

                master.grad = WriteDense(_buffers[i][j]!, grad, factor, deferred != 1);
            }
        }

        if (_deferred.Count == _bufferCount)
        {
            foreach (torch.Tensor flat in _flats)
            {
                flat.mul_(deferred);
            }
        }
        else
        {
            foreach (torch.Tensor buffer in _deferred)
            {
                buffer.mul_(deferred);
            }
        }

        _deferred.Clear();
    }

    /// <summary>Whether every master's gradient buffer exists on the master's device (false after a model move).</summary>
    private bool BuffersFollowMasters()
    {
        for (int i = 0; i < _masters.Length; i++)
        {
            for (int j = 0; j < _masters[i].Parameters.Length; j++)
            {
                torch.Tensor? buffer = _buffers[i][j];
                Parameter master = _masters[i].Parameters[j];
                if (buffer is null || buffer.device_type != master.device_type || buffer.device_index != master.device_index)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Converts <paramref name="grad"/> into <paramref name="buffer"/> and multiplies it by
    /// <paramref name="factor"/>: at once on the managed CPU path (while the floats are in cache), else with <c>mul_</c>, or
    /// later with the flat buffer's when <paramref name="defer"/> (the buffer joins <see cref="_deferred"/>).</summary>
    private torch.Tensor WriteDense(torch.Tensor buffer, torch.Tensor grad, double factor, bool defer)
    {
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
            if (defer)
            {
                _deferred.Add(buffer);
            }
            else if (factor != 1)
            {
                buffer.mul_(factor);
            }
        }

        return buffer;
    }
}
