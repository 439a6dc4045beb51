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
    /// keeps them out of underflow without overflow (<see cref="GradientFlowCheckResult.Float16"/>). The model is left exactly as found: parameters, their
    /// <c>.grad</c> (the same tensors, or none), buffers (BatchNorm running statistics), training modes, and no hook left behind.
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
        // The pass measures the recurrent layers' time profiles with the user's ThroughTime options (validated by Check
        // before the pass runs).
        var throughTime = new GradientMonitorOptions();
        configure?.Invoke(throughTime);
        var pass = new LossPreflightPass(model, layers, loss, throughTime.ThroughTime);
        return GradientFlowPreflight.Check([.. layers.Select(l => l.Descriptor)], configure, pass, logger);
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
    /// Recurrent layers (<c>nn.RNN</c>, <c>nn.LSTM</c>, <c>nn.GRU</c> and their cells) are initialized towards a per-step
    /// gain through time of 1 first (docs/recurrent.md): a tanh RNN gets an orthogonal recurrent weight scaled by measured
    /// rounds until its measured gain is 1 (Saxe et al. 2014); a ReLU RNN the identity and zero biases (Le et al. 2015); an
    /// LSTM or GRU orthogonal recurrent gate blocks and chrono gate biases (Tallec &amp; Ollivier 2018) so its memory reaches
    /// over the sequence length, the value written into <c>b_ih</c> with the same slice of <c>b_hh</c> set to 0.
    /// </summary>
    /// <param name="model">The model; it runs in its current training mode.</param>
    /// <param name="forward">Calls the model on a representative batch and returns its output (back-propagated along a
    /// fixed random direction) or a loss (a one-element tensor, back-propagated as is).</param>
    /// <param name="maxIterations">The most measured correction rounds to run, for the depth and for the recurrent layers each;
    /// in [1, <see cref="MaxIterationsLimit"/>].</param>
    /// <param name="sequenceLength">The number of time steps the recurrent layers' memory should reach (the T of the chrono
    /// gate biases). When null, each layer's sequence length is measured on one forward of <paramref name="forward"/>: the
    /// time dimension of a fused module's input, or the number of calls of a cell. Give it when training sequences are
    /// longer than the batch the closure uses.</param>
    /// <returns>The depth gain and the recurrent layers' per-step gain before and after, the factor applied per layer,
    /// what was written into each recurrent layer, and a message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="forward"/> is null.</exception>
    /// <exception cref="ArgumentException">The model has no trainable parameters.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxIterations"/> or <paramref name="sequenceLength"/> is
    /// out of range.</exception>
    public static GradientFlowInitializationResult InitializeForGradientFlow(this torch.nn.Module model, Func<torch.Tensor> forward, int maxIterations = 10,
        int? sequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIterations, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxIterations, MaxIterationsLimit);
        if (sequenceLength is int length)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(length, 2, nameof(sequenceLength));
        }

        ModuleLayer[] layers = DiscoverLayers(model);
        LayerScalingRole[] roles = LayerRoles.Classify(model, layers);
        var scaling = new BackwardGainScaling([.. layers.Select((l, i) => new ScalingLayer(l.Descriptor, roles[i], LayerWeights.RootMeanSquare(l)))]);
        var recurrent = new RecurrentRemedy(model);
        // Each pass also measures the recurrent layers' time profiles (the monitor's measurement, default options).
        using var pass = new GradientFlowPass(model, layers, recurrent.Layers.Count > 0 ? new ThroughTimeOptions() : null);
        LayerObservation[] first = pass.Measure(forward, requireScalar: false, out _);
        double? before = DepthProfile.FitOutputGradientGain(first);
        double? gainBefore = RecurrentRounds.GainPerStep(pass.TimeProfiles);
        string[] unprobed = pass.Unprobed(first);
        RecurrentRounds.Run(pass, recurrent, forward, maxIterations, sequenceLength);
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
        double? gainAfter = RecurrentRounds.GainPerStep(pass.TimeProfiles);
        return recurrent.Layers.Count == 0
            ? scaling.ToResult(before, after, iterations, unprobed)
            : scaling.ToResult(before, after, iterations, unprobed, gainBefore, gainAfter, recurrent.Describe());
    }

    private static ModuleLayer[] DiscoverLayers(torch.nn.Module model)
    {
        ModuleLayer[] layers = LayerDiscovery.Discover(model);
        return layers.Length > 0
            ? layers
            : throw new ArgumentException($"The module '{model.GetName()}' has no trainable parameters (it has none, or every one has requires_grad = " +
                "false), so there is no gradient flow to measure.", nameof(model));
    }

    private static void Apply(ModuleLayer[] layers, double[] factors)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            LayerWeights.Scale(layers[i], factors[i]);
        }
    }
}
