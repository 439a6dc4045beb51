using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Writes the monitor's figures to TensorBoard event files with TorchSharp's <c>SummaryWriter</c>, every
/// <see cref="TelemetryOptions.ExportInterval"/> steps: the global norm, each layer's gradient norm (before
/// clipping, and after it when a policy ran) and gradient histogram (after clipping: it reads <c>.grad</c> when the step
/// is written, after the policy), the clip coefficient, and the alerts raised per kind since the previous write, with
/// those alerts as text (one line each, with its step and the NaN's origin when traced). On every step that measured
/// time profiles, whatever the interval, each recurrent layer's per-step gain and memory horizon.
/// </summary>
/// <remarks>Tags: <c>gradients/global_norm</c>, <c>gradients/norm/{layer}</c>,
/// <c>gradients/norm_after_clipping/{layer}</c>, <c>gradients/histogram/{layer}</c>,
/// <c>gradients/clip_coefficient</c>, <c>gradients/loss_scale</c> (from the first step whose loss scale is not 1, under
/// mixed precision), <c>alerts/{kind}</c>, <c>alerts/text</c>, <c>time/gain_per_step/{profile}</c> and
/// <c>time/memory_horizon/{profile}</c> (the sequence length when the signal never fell below the fraction; profile names
/// are <see cref="RecurrentTimeProfile.Name"/>). TensorBoard steps are <c>int</c>; later steps are written
/// at <see cref="int.MaxValue"/>. Histograms copy each layer's gradients to the host, so they cost one transfer per
/// layer at export steps only. Layers whose gradients are non-finite or reach 1e20 get no histogram.</remarks>
internal sealed class TensorBoardWriter : IGradientStepObserver
{
    public const string GlobalNormTag = "gradients/global_norm";
    public const string ClipCoefficientTag = "gradients/clip_coefficient";
    public const string LossScaleTag = "gradients/loss_scale";
    public const string LayerNormTagPrefix = "gradients/norm/";
    public const string HistogramTagPrefix = "gradients/histogram/";
    public const string LayerNormAfterClippingTagPrefix = "gradients/norm_after_clipping/";
    public const string AlertTagPrefix = "alerts/";
    public const string AlertTextTag = "alerts/text";
    public const string GainPerStepTagPrefix = "time/gain_per_step/";
    public const string MemoryHorizonTagPrefix = "time/memory_horizon/";

    // An interval can raise an alert per layer and step; TensorBoard's text pane is read, not searched, so a write's text
    // keeps the first alerts since the previous write and says how many more there were (the per-kind counts stay complete).
    private const int MaxAlertLines = 20;

    private const double TensorFlowBinsLimit = 1e20;

    private readonly SummaryWriter _writer;
    private readonly ModuleLayer[] _layers;
    private readonly int _interval;
    private readonly string[] _normTags;
    private readonly string[] _histogramTags;
    private readonly string[] _normAfterClippingTags;
    private readonly GradientAlertKind[] _kinds = Enum.GetValues<GradientAlertKind>();
    private readonly Dictionary<GradientAlertKind, int> _alertsSinceLastWrite = [];
    private readonly List<GradientAlert> _alertTextSinceLastWrite = new(MaxAlertLines);
    private int _alertCountSinceLastWrite;
    private bool _lossScaled;

    /// <exception cref="ArgumentException">The directory cannot be created or written; ParamName is <paramref name="optionName"/>.</exception>
    public TensorBoardWriter(string logDirectory, ModuleLayer[] layers, int interval, string optionName)
    {
        try
        {
            // The SummaryWriter creates the directory and the event file (with its version record) right here, so an
            // unwritable directory fails at attach.
            _writer = torch.utils.tensorboard.SummaryWriter(logDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw OutputPath.Unwritable(logDirectory, optionName, ex);
        }

        _layers = layers;
        _interval = interval;
        _normTags = [.. layers.Select(l => LayerNormTagPrefix + l.Name)];
        _histogramTags = [.. layers.Select(l => HistogramTagPrefix + l.Name)];
        _normAfterClippingTags = [.. layers.Select(l => LayerNormAfterClippingTagPrefix + l.Name)];
    }

    /// <summary>The directory the event files are written to.</summary>
    public string LogDirectory => _writer.LogDir;

    public void OnStep(GradientStepResult result, double overheadSeconds)
    {
        foreach (GradientAlert alert in result.Alerts)
        {
            _alertsSinceLastWrite[alert.Kind] = _alertsSinceLastWrite.GetValueOrDefault(alert.Kind) + 1;
        }

        _alertTextSinceLastWrite.AddRange(result.Alerts.Take(MaxAlertLines - _alertTextSinceLastWrite.Count));
        _alertCountSinceLastWrite += result.Alerts.Count;
        WriteTimeProfiles(result);

        if (result.Step % _interval != 0)
        {
            return;
        }

        int step = (int)Math.Min(result.Step, int.MaxValue);
        _writer.add_scalar(GlobalNormTag, (float)result.GlobalNorm, step);
        if (ClippingTelemetry.Coefficient(result) is double coefficient)
        {
            _writer.add_scalar(ClipCoefficientTag, (float)coefficient, step);
        }

        // Once a step was loss-scaled, every later export writes the scale, 1 included (a dynamic scale can back off to it).
        _lossScaled |= result.LossScale != 1;
        if (_lossScaled)
        {
            _writer.add_scalar(LossScaleTag, (float)result.LossScale, step);
        }

        foreach (GradientAlertKind kind in _kinds.Union(_alertsSinceLastWrite.Keys))
        {
            _writer.add_scalar(AlertTagPrefix + kind, _alertsSinceLastWrite.GetValueOrDefault(kind), step);
        }

        _alertsSinceLastWrite.Clear();
        if (_alertCountSinceLastWrite > 0)
        {
            _writer.add_text(AlertTextTag, AlertText.Markdown(_alertTextSinceLastWrite, _alertCountSinceLastWrite), step);
            _alertTextSinceLastWrite.Clear();
            _alertCountSinceLastWrite = 0;
        }

        for (int i = 0; i < _layers.Length && i < result.Layers.Count; i++)
        {
            _writer.add_scalar(_normTags[i], (float)result.Layers[i].GradientNorm, step);
            if (result.Layers[i].GradientNormAfterClipping is double after)
            {
                // The histogram below reads .grad now, after the clipping policy ran: this is its norm.
                _writer.add_scalar(_normAfterClippingTags[i], (float)after, step);
            }

            // TensorBoard's log-spaced bins (TorchSharp's default, as PyTorch's) span ±1e-12..1e20: beyond them TorchSharp
            // throws "the histogram is empty", and its data-driven bin selectors reject float64. A layer that large has
            // exploded anyway; its norm scalar and the alerts say so.
            TensorStatistics gradient = result.Layers[i].Gradient;
            if (gradient.IsFinite && gradient.ElementCount > 0 && gradient.MaxMagnitude < TensorFlowBinsLimit)
            {
                WriteHistogram(i, step);
            }
        }
    }

    public void Dispose()
    {
        // SummaryWriter opens, appends to and closes its file on every write: there is nothing left open.
    }

    private void WriteTimeProfiles(GradientStepResult result)
    {
        int step = (int)Math.Min(result.Step, int.MaxValue);
        foreach (RecurrentTimeProfile profile in result.TimeProfiles.Where(p => p.Measured))
        {
            _writer.add_scalar(GainPerStepTagPrefix + profile.Name, (float)profile.GainPerStep, step);
            _writer.add_scalar(MemoryHorizonTagPrefix + profile.Name, profile.MemoryHorizon ?? profile.SequenceLength, step);
        }
    }

    private void WriteHistogram(int layer, int step)
    {
        using var scope = torch.NewDisposeScope();
        var flattened = new List<torch.Tensor>(_layers[layer].Parameters.Length);
        foreach (Parameter parameter in _layers[layer].Parameters)
        {
            // Every read of .grad makes a new managed wrapper; the dispose scope releases them.
            torch.Tensor? grad = parameter.grad;
            if (grad is not null)
            {
                flattened.Add((grad.is_sparse ? grad.to_dense() : grad).detach().flatten().to(torch.CPU).to_type(torch.ScalarType.Float32));
            }
        }

        if (flattened.Count > 0)
        {
            _writer.add_histogram(_histogramTags[layer], torch.cat(flattened), step);
        }
    }
}
