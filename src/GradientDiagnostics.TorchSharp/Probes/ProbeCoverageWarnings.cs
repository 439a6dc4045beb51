using Microsoft.Extensions.Logging;

namespace GradientDiagnostics.TorchSharp.Probes;

/// <summary>
/// The warnings about layer outputs the probes do not see (EventId 1902): at attach, the layers that cannot be probed,
/// grouped by reason; once, a full step that captured nothing at all; once per layer, a layer missed while others were
/// captured. A throwing logger goes to the self-log, never into the training loop.
/// </summary>
internal static class ProbeCoverageWarnings
{
    /// <summary>At most this many layer names in one log message; the rest are counted.</summary>
    private const int NamesPerMessage = 12;

    /// <summary>At attach: one warning per reason, naming the layers that cannot be probed for it.</summary>
    public static void Unprobed(ILogger logger, IEnumerable<(string Layer, string Reason)> unprobed)
    {
        foreach (IGrouping<string, (string Layer, string Reason)> group in unprobed.GroupBy(u => u.Reason))
        {
            string layers = Names(group.Select(g => g.Layer));
            Warn(() => Log.LayerOutputNotProbed(logger, layers, group.Key), "layers cannot be probed");
        }
    }

    /// <summary>Probes the user did not ask for (the default): one Information line for every layer a hook does not see,
    /// listed in <c>GradientMonitor.</c><paramref name="property"/>.</summary>
    public static void Unseen(ILogger logger, IReadOnlyCollection<string> layers, int total, string property)
    {
        string names = Names(layers);
        Warn(() => Log.LayerOutputsUnseen(logger, layers.Count, total, names, property), "layer outputs are not seen");
    }

    /// <summary>A full step on which no probed layer's hook ran.</summary>
    public static void NothingCaptured(ILogger logger, long step, string[] probedLayers) =>
        Warn(() => Log.NoLayerOutputCaptured(logger, step, probedLayers.Length, Names(probedLayers)), "no layer output was captured");

    /// <summary>A full step on which one probed layer's hook did not run while others' did.</summary>
    public static void NotCaptured(ILogger logger, string layer, long step) =>
        Warn(() => Log.LayerOutputNotCaptured(logger, layer, step), $"layer {layer} was not captured");

    private static string Names(IEnumerable<string> names)
    {
        string[] all = [.. names];
        return all.Length <= NamesPerMessage
            ? string.Join(", ", all)
            : $"{string.Join(", ", all.Take(NamesPerMessage))} and {all.Length - NamesPerMessage} more";
    }

    private static void Warn(Action log, string what)
    {
        try
        {
            log();
        }
#pragma warning disable CA1031 // A failing logger must never break the training loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            GradientSelfLog.Write($"the logger threw while warning that {what}; training goes on.", ex);
        }
    }
}
