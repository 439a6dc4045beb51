using GradientDiagnostics.TorchSharp.Initialization;
using GradientDiagnostics.TorchSharp.Preflight;
using Microsoft.Extensions.Logging;

namespace GradientDiagnostics.TorchSharp;

/// <summary>Checks a model's gradient flow before training, and re-initializes its weights so the back-propagated
/// signal neither vanishes nor explodes (docs/remedies.md).</summary>
public static class GradientFlowExtensions
{
    /// <summary>The largest number of measured correction rounds <see cref="InitializeForGradientFlow"/> accepts.</summary>
    public const int MaxIterationsLimit = 100;

    /// <summary>
    /// Runs the loss closure once (one forward and one backward pass) with probes on every hookable layer and says
    /// whether the gradients would vanish or explode: the depth gain, a verdict, per-layer statistics and the alerts the
    /// detectors would raise at step 0; and what float16 would do to each layer's gradients, with the loss-scale range that
    /// keeps them out of underflow without overflow (<see cref="GradientFlowCheckResult.Float16"/>). The model is left exactly as found: parameters, their <c>.grad</c> (the same
    /// tensors, or none), buffers (BatchNorm running statistics), training modes, and no hook left behind.
    /// </summary>
    /// <param name="model">The model; it runs in its current training mode.</param>
    /// <param name="loss">Computes the loss on a representative batch (a one-element tensor) by calling the model.</param>
    /// <param name="configure">Sets the detectors' thresholds, as for <c>AttachGradientMonitor</c>,
    /// so the verdict agrees with the monitor; validated here. Persistence is judged on this one pass, and no telemetry is written.</param>
    /// <param name="logger">Where the findings are logged; nothing is logged when null.</param>
    /// <returns>What one pass measured.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="loss"/> is null.</exception>
    /// <exception cref="ArgumentException">The model has no trainable parameters, or the loss has more than one element.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Options are out of range; the message names each.</exception>
    public static GradientFlowCheckResult CheckGradientFlow(this torch.nn.Module model, Func<torch.Tensor> loss,
        Action<GradientMonitorOptions>? configure = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ModuleLayer[] layers = DiscoverLayers(model);
        return GradientFlowPreflight.Check([.. layers.Select(l => l.Descriptor)], configure, new LossPreflightPass(model, layers, loss), logger);
    }

    /// <summary>As <see cref="CheckGradientFlow(torch.nn.Module, Func{torch.Tensor}, Action{GradientMonitorOptions}, ILogger)"/>,
    /// with the detectors' thresholds from an options object, for example a preset:
    /// <c>model.CheckGradientFlow(loss, GradientMonitorOptions.Sensitive())</c>. The object is validated and copied; it is
    /// not changed.</summary>
    /// <param name="model">The model; it runs in its current training mode.</param>
    /// <param name="loss">Computes the loss on a representative batch (a one-element tensor) by calling the model.</param>
    /// <param name="options">The thresholds, as for the monitor.</param>
    /// <param name="logger">Where the findings are logged; nothing is logged when null.</param>
    /// <returns>What one pass measured.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/>, <paramref name="loss"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The model has no trainable parameters, or the loss has more than one element.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Options are out of range; the message names each.</exception>
    public static GradientFlowCheckResult CheckGradientFlow(this torch.nn.Module model, Func<torch.Tensor> loss, GradientMonitorOptions options,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        ModuleLayer[] layers = DiscoverLayers(model);
        return GradientFlowPreflight.Check([.. layers.Select(l => l.Descriptor)], options, new LossPreflightPass(model, layers, loss), logger);
    }

    /// <summary>
    /// Rescales the model's weights so the back-propagated signal keeps its size from layer to layer (per-layer depth gain
    /// near 1): the He / Xavier scale where the following activation is known, then rounds of measured correction, each
    /// one forward and one backward pass of <paramref name="forward"/>. Only the weights of Linear and convolution layers
    /// are multiplied by a factor; biases, normalization layers, layers that feed a normalization layer, other modules and
    /// frozen parameters are never changed. Gradients, buffers and training modes are restored as found.
    /// </summary>
    /// <param name="model">The model; it runs in its current training mode.</param>
    /// <param name="forward">Calls the model on a representative batch and returns its output (back-propagated along a
    /// fixed random direction) or a loss (a one-element tensor, back-propagated as is).</param>
    /// <param name="maxIterations">The most measured correction rounds to run; in [1, <see cref="MaxIterationsLimit"/>].</param>
    /// <returns>The depth gain before and after, the factor applied per layer, and a message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="forward"/> is null.</exception>
    /// <exception cref="ArgumentException">The model has no trainable parameters.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxIterations"/> is out of range.</exception>
    public static GradientFlowInitializationResult InitializeForGradientFlow(this torch.nn.Module model, Func<torch.Tensor> forward, int maxIterations = 10)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIterations, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxIterations, MaxIterationsLimit);
        ModuleLayer[] layers = DiscoverLayers(model);
        LayerScalingRole[] roles = LayerRoles.Classify(model, layers);
        var scaling = new BackwardGainScaling([.. layers.Select((l, i) => new ScalingLayer(l.Descriptor, roles[i], LayerWeights.RootMeanSquare(l)))]);

        using var pass = new GradientFlowPass(model, layers);
        LayerObservation[] first = pass.Measure(forward, requireScalar: false, out _);
        double? before = DepthProfile.FitOutputGradientGain(first);
        string[] unprobed = pass.Unprobed(first);
        Apply(layers, scaling.AnalyticStart());
        int iterations = 0;
        while (iterations < maxIterations)
        {
            LayerObservation[] measured = pass.Measure(forward, requireScalar: false, out _);
            Apply(layers, scaling.Correct([.. measured.Select(o => o.OutputGradientNorm)]));
            iterations++;
            if (scaling.Converged)
            {
                break;
            }
        }

        double? after = DepthProfile.FitOutputGradientGain(pass.Measure(forward, requireScalar: false, out _));
        return scaling.ToResult(before, after, iterations, unprobed);
    }

    private static ModuleLayer[] DiscoverLayers(torch.nn.Module model)
    {
        ModuleLayer[] layers = LayerDiscovery.Discover(model);
        return layers.Length > 0
            ? layers
            : throw new ArgumentException($"The module '{model.GetName()}' has no trainable parameters (it has none, or every one has requires_grad = false), so there is no gradient flow to measure.", nameof(model));
    }

    private static void Apply(ModuleLayer[] layers, double[] factors)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            LayerWeights.Scale(layers[i], factors[i]);
        }
    }
}
