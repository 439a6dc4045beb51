using Microsoft.Extensions.Logging;

namespace GradientDiagnostics.TorchSharp;

/// <summary>The adapter's own source-generated log messages, about TorchSharp itself (hooks, modules); their EventIds
/// are published with the core's in <see cref="GradientLogEvents"/>.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = GradientLogEvents.LayerOutputNotCaptured, EventName = "LayerOutputNotCaptured", Level = LogLevel.Warning,
        Message = "Layer {Layer} is probed but its output was not captured at step {Step}: its forward hooks did not run. If its parent calls " +
            "{Layer}.forward(x), call it through call(x) instead so hooks run; until then it has no OutputGradientNorm or activation statistics. Logged once " +
            "per layer.")]
    public static partial void LayerOutputNotCaptured(ILogger logger, string layer, long step);

    [LoggerMessage(EventId = GradientLogEvents.LayerOutputNotCaptured, EventName = "NoLayerOutputCaptured", Level = LogLevel.Warning,
        Message = "No layer output was captured at step {Step}: the forward hooks of all {ProbedCount} probed layers ({Layers}) did not run, so there is no " +
            "depth profile, OutputGradientNorm, Saturation or DeadUnits. Likely cause: the model's forward calls its children with child.forward(x), which " +
            "bypasses hooks; call them through child.call(x) instead. (A module whose computation is native, or whose forward bypasses call(), cannot be " +
            "observed either.) Gradients are still measured. Logged once.")]
    public static partial void NoLayerOutputCaptured(ILogger logger, long step, int probedCount, string layers);

    [LoggerMessage(EventId = GradientLogEvents.LayerOutputNotCaptured, EventName = "LayerOutputNotProbed", Level = LogLevel.Warning,
        Message = "CaptureLayerOutputs is on, but layers {Layers} cannot be probed: {Reason}. Their gradients are still measured; they get no " +
            "OutputGradientNorm or activation statistics. Logged once, at attach.")]
    public static partial void LayerOutputNotProbed(ILogger logger, string layers, string reason);

    [LoggerMessage(EventId = GradientLogEvents.DetectorsIdle, EventName = "DetectorsIdle", Level = LogLevel.Information,
        Message = "The {Detectors} detector(s) are enabled but idle: they need {Option} = true. Set it to run them, or set their Enabled = false to silence " +
            "this message.")]
    public static partial void DetectorsIdle(ILogger logger, string detectors, string option);

    [LoggerMessage(EventId = GradientLogEvents.LayerOutputNotCaptured, EventName = "LayerOutputsUnseen", Level = LogLevel.Information,
        Message = "Layer outputs are probed by default, but {Count} of {Total} layers are not seen by a forward hook ({Layers}): "
            + "they get no OutputGradientNorm, depth profile or activation statistics; their gradients are still measured. "
            + "GradientMonitor.{Property} says which. A forward that calls child.forward(x) skips the child's hooks: "
            + "the analyzer GD0001 finds such calls and its code fix writes child.call(x). Set CaptureLayerOutputs = true "
            + "for a warning per cause, or false to turn the probes off. Logged once.")]
    public static partial void LayerOutputsUnseen(ILogger logger, int count, int total, string layers, string property);
}
