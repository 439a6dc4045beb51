using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Mixed-precision training on a 16-bit model (<see cref="GradientMonitor.EnableMixedPrecision"/>): fp32 master weights
/// the optimizer updates, a loss scale for <c>backward()</c>, and the step that writes the masters back into the model.
/// </summary>
/// <remarks>
/// The loop: <c>mp.ScaleLoss(loss).backward()</c>; <c>var result = monitor.Step(loss)</c> reads the 16-bit gradients
/// once, checks them for overflow, runs every statistic, detector and the clipping decision in unscaled units, and writes
/// <c>master.grad = g₁₆ × (clip coefficient / S)</c> in fp32 (nothing on an overflow, which it skips); then, unless
/// <see cref="GradientStepResult.SkipStep"/>, <see cref="Step"/>. The monitor's <c>Step</c> consumes the model's 16-bit
/// gradients (it sets them to none), so the next backward starts from zero even though the optimizer only zeroes the
/// masters. Not thread-safe, as the monitor.
/// </remarks>
public sealed partial class MixedPrecisionTraining
{
    private readonly ModuleLayer[] _layers;
    private readonly ModuleLayer[] _masterLayers;
    private readonly LossScaler _scaler;
    private readonly Parameter[] _masters;
    private readonly torch.nn.Module _model;

    internal MixedPrecisionTraining(torch.nn.Module model, ModuleLayer[] layers, LossScaler scaler)
    {
        _layers = layers;
        _scaler = scaler;
        _model = model;
        using var noGrad = torch.no_grad();
        // One master per monitored parameter, fp32 and on its device; created outside any caller's dispose scope.
        _masterLayers = [.. layers.Select(l => new ModuleLayer(l.Descriptor, l.Module,
            [.. l.Parameters.Select(p => (Parameter)new Parameter(p.detach().to_type(torch.ScalarType.Float32, copy: true), requires_grad: true)
                .DetachFromDisposeScope())]))];
        _masters = ModelOrder(model, layers, _masterLayers);
        Target = new MasterGradientTarget(layers, _masterLayers);
    }

    /// <summary>The fp32 copy of every trainable parameter, in the model's <c>parameters()</c> order. Build the optimizer on
    /// these: <c>optim.AdamW(mp.MasterParameters, 1e-3)</c>. Their gradients are written by the monitor's <c>Step</c>, in
    /// unscaled units and already clipped.</summary>
    public IReadOnlyList<Parameter> MasterParameters => _masters;

    /// <summary>The loss scale S of the coming step: <see cref="ScaleLoss"/> multiplies by it. Dynamic scaling changes it
    /// at the end of each monitor step (<see cref="GradientStepResult.LossScale"/> is the scale a step used).</summary>
    public double LossScale => _scaler.Scale;

    /// <summary>The loss scaling in use (the option, or the default for the model's dtype).</summary>
    public LossScaling LossScaling => _scaler.Scaling;

    internal MasterGradientTarget Target { get; }

    /// <summary>Validates and enables mixed precision on a monitor (the body of <c>GradientMonitor.EnableMixedPrecision</c>).</summary>
    internal static MixedPrecisionTraining Enable(GradientAnalyzer analyzer, torch.nn.Module model, ModuleLayer[] layers,
        Action<MixedPrecisionOptions>? configure, bool enabled, bool recoveryEnabled)
    {
        if (enabled)
        {
            throw new InvalidOperationException("Mixed precision is already enabled on this monitor; use the MixedPrecisionTraining it returned.");
        }

        if (recoveryEnabled)
        {
            throw new InvalidOperationException("Enable mixed precision before recovery: build the optimizer on mp.MasterParameters, then call " +
                "EnableRecovery(optimizer), so recovery snapshots the masters the optimizer updates.");
        }

        var options = new MixedPrecisionOptions();
        configure?.Invoke(options);
        bool float16 = layers.Any(l => l.Parameters.Any(p => p.dtype == torch.ScalarType.Float16));
        return new MixedPrecisionTraining(model, layers, analyzer.EnableLossScaling(options.LossScalingFor(float16)));
    }

    /// <summary>Ends a monitor step: writes the masters' gradients unless the step overflowed (the clipping stage may have
    /// written them already), then releases the model's 16-bit gradients.</summary>
    internal void Complete(GradientStepResult result)
    {
        if (double.IsFinite(result.GlobalNorm))
        {
            Target.Complete();
        }

        ReleaseModelGradients();
    }

    /// <summary>Returns <c>loss × S</c> for <c>backward()</c>, computed in fp32 (a 16-bit loss is converted first, so the
    /// product cannot overflow float16). Pass the unscaled loss to the monitor's <c>Step(loss)</c>.</summary>
    /// <param name="loss">The step's loss.</param>
    /// <returns>A new tensor (in the caller's dispose scope); the loss itself when S is 1 and it is fp32.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loss"/> is null.</exception>
    public torch.Tensor ScaleLoss(torch.Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        torch.Tensor wide = loss.dtype is torch.ScalarType.Float16 or torch.ScalarType.BFloat16 ? loss.to_type(torch.ScalarType.Float32) : loss;
        return _scaler.Scale == 1 ? wide : wide * _scaler.Scale;
    }

    /// <summary>Runs <c>optimizer.step()</c> on the masters, then writes every master into the model's parameter, rounded
    /// to the nearest 16-bit value (libtorch's float32 → float16 / bfloat16 conversion rounds to nearest, ties to even).
    /// Call it only when the monitor's step was not skipped.</summary>
    /// <param name="optimizer">An optimizer built on <see cref="MasterParameters"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    public void Step(torch.optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.step();
        WriteMastersToModel();
    }

    /// <summary>The loss scaler's state, to save with a checkpoint (with the masters and the optimizer's state).</summary>
    /// <returns>The scale and the count of clean steps.</returns>
    public LossScalerState SaveScalerState() => _scaler.Save();

    /// <summary>Restores the loss scaler's state saved by <see cref="SaveScalerState"/>.</summary>
    /// <param name="state">The saved state.</param>
    /// <exception cref="ArgumentOutOfRangeException">The state is not a valid one; the message names the member.</exception>
    public void RestoreScalerState(LossScalerState state) => _scaler.Restore(state);

    /// <summary>Copies the masters into the model's parameters (round to nearest), for example after loading masters from
    /// a checkpoint; <see cref="Step"/> does it after every optimizer step.</summary>
    public void WriteMastersToModel()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _layers.Length; i++)
        {
            for (int j = 0; j < _layers[i].Parameters.Length; j++)
            {
                _layers[i].Parameters[j].copy_(_masterLayers[i].Parameters[j]);
            }
        }
    }

    /// <summary>The masters, for recovery's snapshots.</summary>
    internal IEnumerable<torch.Tensor> Masters => _masters;

    /// <summary>Sets the model's 16-bit gradients to none after the monitor consumed them.</summary>
    private void ReleaseModelGradients()
    {
        foreach (Parameter parameter in _layers.SelectMany(l => l.Parameters))
        {
            parameter.grad = null;
        }
    }

    /// <summary>The masters in the order of the model's trainable <c>parameters()</c> (matched by their storage; the layers group them by module,
    /// in forward order, which can differ for native modules).</summary>
    private static Parameter[] ModelOrder(torch.nn.Module model, ModuleLayer[] layers, ModuleLayer[] masters)
    {
        var byHandle = new Dictionary<IntPtr, Parameter>();
        for (int i = 0; i < layers.Length; i++)
        {
            for (int j = 0; j < layers[i].Parameters.Length; j++)
            {
                byHandle[LayerDiscovery.TensorIdentity(layers[i].Parameters[j])] = masters[i].Parameters[j];
            }
        }

        var ordered = new List<Parameter>(byHandle.Count);
        foreach (Parameter parameter in model.parameters())
        {
            if (byHandle.Remove(LayerDiscovery.TensorIdentity(parameter), out Parameter? master) && master is not null)
            {
                ordered.Add(master);
            }
        }

        ordered.AddRange(byHandle.Values); // none in practice: every monitored parameter is one of the model's
        return [.. ordered];
    }
}
