namespace GradientDiagnostics;

/// <summary>Converts between the public result types and the JSON Lines records, both ways, so writer and reader
/// cannot disagree.</summary>
internal static class RunRecordMapping
{
    public static RunHeaderRecord ToHeader(IReadOnlyList<LayerDescriptor> layers, int exportInterval, double? clipThreshold) => new()
    {
        StartedUtc = DateTimeOffset.UtcNow,
        ExportInterval = exportInterval,
        ClipThreshold = clipThreshold,
        Layers = [.. layers.Select(l => new LayerRecord { Name = l.Name, FanIn = l.FanIn, FanOut = l.FanOut, FollowingActivation = l.FollowingActivation })],
    };

    public static LayerDescriptor[] ToLayers(RunHeaderRecord header) =>
        [.. header.Layers.Select(l => new LayerDescriptor(l.Name) { FanIn = l.FanIn, FanOut = l.FanOut, FollowingActivation = l.FollowingActivation })];

    public static StepRecord ToRecord(GradientStepResult result, bool withLayers) => new()
    {
        Step = result.Step,
        GlobalNorm = result.GlobalNorm,
        Loss = result.Loss,
        SkipStep = result.SkipStep,
        DepthGain = result.DepthGain,
        ProbedLayerCount = result.ProbedLayerCount > 0 ? result.ProbedLayerCount : null,
        DepthGainOverDepth = result.DepthGainOverDepth,
        ClipCoefficient = ClippingTelemetry.Coefficient(result),
        NormBeforeClipping = result.NormBeforeClipping,
        NormAfterClipping = result.NormAfterClipping,
        ClippingActed = result.ClippingActed,
        LossScale = result.LossScale == 1 ? null : result.LossScale,
        Layers = withLayers && result.Layers.Count > 0 ? [.. result.Layers.Select(ToRecord)] : null,
        Alerts = result.Alerts.Count > 0 ? [.. result.Alerts.Select(ToRecord)] : null,
        TimeProfiles = result.TimeProfiles.Count > 0 ? [.. result.TimeProfiles.Select(TimeProfileRecord.From)] : null,
    };

    public static GradientStepResult ToResult(StepRecord record, IReadOnlyList<LayerDescriptor> layers)
    {
        List<LayerStepRecord>? recorded = record.Layers;
        int probed = record.ProbedLayerCount ?? recorded?.Count(l => l.OutputGradientNorm is not null) ?? 0;
        if (recorded is not null && recorded.Count != layers.Count)
        {
            throw new InvalidDataException($"Step {record.Step} has {recorded.Count} layers but the run header lists {layers.Count}.");
        }

        return new GradientStepResult
        {
            Step = record.Step,
            GlobalNorm = record.GlobalNorm,
            Loss = record.Loss,
            SkipStep = record.SkipStep,
            DepthGain = record.DepthGain,
            ProbedLayerCount = probed,
            // Files written before the factor was recorded: the same g^(P−1) the analyzer computes.
            DepthGainOverDepth = record.DepthGainOverDepth ?? (record.DepthGain is double g && probed >= 2 ? Math.Pow(g, probed - 1) : null),
            ClippingCoefficient = record.ClipCoefficient ?? 1,
            NormBeforeClipping = record.NormBeforeClipping,
            NormAfterClipping = record.NormAfterClipping,
            ClippingActed = record.ClippingActed,
            LossScale = record.LossScale ?? 1,
            Layers = recorded is null ? [] : [.. recorded.Select((l, i) => ToStatistics(l, i, layers[i].Name))],
            Alerts = record.Alerts is null ? [] : [.. record.Alerts.Select(a => ToAlert(a, record.Step))],
            TimeProfiles = record.TimeProfiles is null ? [] : [.. record.TimeProfiles.Select(p => p.ToProfile())],
        };
    }

    /// <summary>An alert kept in a saved monitor state, with its step.</summary>
    public static SavedAlert ToSaved(GradientAlert alert) => new() { Step = alert.Step, Alert = ToRecord(alert) };

    /// <summary>The alert a saved monitor state kept.</summary>
    public static GradientAlert ToAlert(SavedAlert saved) => ToAlert(saved.Alert, saved.Step);

    private static GradientAlert ToAlert(AlertRecord a, long step) =>
        new(a.Kind, a.Severity, step, a.Layer, a.Metric, a.Value, a.Threshold, a.Message) { Origin = a.Origin };

    private static LayerStepRecord ToRecord(LayerGradientStatistics layer) => new()
    {
        ElementCount = layer.Gradient.ElementCount,
        SumOfSquares = layer.Gradient.SumOfSquares,
        SumOfMagnitudes = layer.Gradient.SumOfMagnitudes,
        MaxFiniteMagnitude = layer.Gradient.MaxFiniteMagnitude,
        ZeroCount = layer.Gradient.ZeroCount,
        NaNCount = layer.Gradient.NaNCount,
        InfinityCount = layer.Gradient.InfinityCount,
        OutputGradientNorm = layer.OutputGradientNorm,
        NormAfterClipping = layer.GradientNormAfterClipping,
    };

    private static AlertRecord ToRecord(GradientAlert alert) => new()
    {
        Kind = alert.Kind,
        Severity = alert.Severity,
        Layer = alert.Layer,
        Metric = alert.Metric,
        Value = alert.Value,
        Threshold = alert.Threshold,
        Message = alert.Message,
        Origin = alert.Origin,
    };

    private static LayerGradientStatistics ToStatistics(LayerStepRecord layer, int index, string name) => new()
    {
        Index = index,
        Name = name,
        OutputGradientNorm = layer.OutputGradientNorm,
        GradientNormAfterClipping = layer.NormAfterClipping,
        Gradient = new TensorStatistics
        {
            ElementCount = layer.ElementCount,
            SumOfSquares = layer.SumOfSquares,
            SumOfMagnitudes = layer.SumOfMagnitudes,
            MaxFiniteMagnitude = layer.MaxFiniteMagnitude,
            ZeroCount = layer.ZeroCount,
            NaNCount = layer.NaNCount,
            InfinityCount = layer.InfinityCount,
        },
    };
}
