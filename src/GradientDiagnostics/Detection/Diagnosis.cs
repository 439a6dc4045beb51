using System.Text;

namespace GradientDiagnostics;

/// <summary>
/// Builds an alert's likely causes and fixes from the evidence the monitor holds, ranked by that evidence: a measured
/// weight scale far from Xavier / He first (it is measured on the very layer, and the library fixes it with
/// <c>model.InitializeForGradientFlow(...)</c>), then the other evidence in the order the detector adds it (the
/// activation that follows the layer, the network's depth); the classic causes of the pathology
/// (<see cref="ClassicCauses"/>) when the evidence names none. Fixes name the library's own remedy where one applies
/// (<see cref="LibraryRemedies"/>).
/// </summary>
internal sealed class Diagnosis
{
    /// <summary>A weight scale off its expectation by more than this factor either way is named as a cause, whatever
    /// the depth. A factor of 2 changes the per-layer gain by 2, that is 2^10 ≈ 1e3 over ten layers.</summary>
    public const double InitScaleFactorWorthNaming = 2;

    /// <summary>A weight scale whose ratio to its expectation, compounded over the network's layers, moves the
    /// back-propagated signal by more than this factor either way is named as a cause: one decade. The per-layer gain is
    /// proportional to the weight std (Poole et al. 2016), so a 20-layer tanh MLP at 0.55× the Xavier std falls by
    /// 0.55^20 ≈ 6e-6 (docs/depth-sweep.md measures the gains).</summary>
    public const double CompoundedScaleFactorWorthNaming = 10;

    /// <summary>From this many layers on, depth itself is named as a cause of vanishing or exploding signals: at 10
    /// layers without normalization the back-propagated signal already falls to 0.04 (ReLU + Xavier) or 2e-6
    /// (sigmoid + Xavier) of its value at the loss (docs/depth-sweep.md, produced by the DepthSweep sample).</summary>
    public const int DeepNetworkLayers = 10;

    private const int MeasuredScaleRank = 0, EvidenceRank = 1;
    private readonly List<(GradientAlertCause Cause, GradientAlertFix Fix, int Rank)> _entries = [];

    public IReadOnlyList<GradientAlertCause> Causes => [.. Ranked().Select(e => e.Cause)];

    public IReadOnlyList<GradientAlertFix> Fixes => [.. Ranked().Select(e => e.Fix)];

    /// <summary>The text with its first letter in upper case, to start a sentence.</summary>
    public static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>Adds a cause and its fix, each with its identifier (<see cref="GradientAlertCause"/>,
    /// <see cref="GradientAlertFix"/>), once.</summary>
    public Diagnosis Add(string causeId, string cause, string fixId, string fix) => Add(new(causeId, cause), new(fixId, fix), EvidenceRank);

    /// <summary>Adds every cause of <paramref name="other"/> not yet here, with its rank.</summary>
    public Diagnosis Merge(Diagnosis other)
    {
        foreach ((GradientAlertCause cause, GradientAlertFix fix, int rank) in other._entries)
        {
            Add(cause, fix, rank);
        }

        return this;
    }

    /// <summary>"layer 'fc3' (Sigmoid follows; weight std 0.21 vs Xavier 0.0625)", with the parts that are known.</summary>
    public static string DescribeLayer(LayerDescriptor layer, InitializationScale? scale = null)
    {
        var parts = new List<string>(2);
        if (layer.FollowingActivation is not ActivationKind.Unknown)
        {
            parts.Add($"{layer.FollowingActivation} follows");
        }

        if (scale is InitializationScale s)
        {
            parts.Add($"weight std {MessageNumber.Format(s.Measured)} vs {s.Scheme} {MessageNumber.Format(s.Expected)}");
        }

        return parts.Count == 0 ? $"layer '{layer.Name}'" : $"layer '{layer.Name}' ({string.Join("; ", parts)})";
    }

    /// <summary>Describes layer <paramref name="index"/> of a step with its activation and init evidence.</summary>
    public static string DescribeLayer(StepEvidence evidence, int index) =>
        DescribeLayer(evidence.Descriptors[index], evidence.WeightScale(index));

    /// <summary>Adds the init-scale cause, ranked first, when the measured scale is off by more than
    /// <see cref="InitScaleFactorWorthNaming"/>, or by more than <see cref="CompoundedScaleFactorWorthNaming"/> once
    /// compounded over the network's <paramref name="layerCount"/> layers.</summary>
    public Diagnosis AddInitScale(InitializationScale? scale, int layerCount)
    {
        if (scale is InitializationScale s && s.Ratio > 0 &&
            (IsOff(s.Ratio, InitScaleFactorWorthNaming) || IsOff(Math.Pow(s.Ratio, layerCount), CompoundedScaleFactorWorthNaming)))
        {
            string compounded = layerCount >= 2 ? $", a factor {MessageNumber.Format(Math.Pow(s.Ratio, layerCount))} on the signal over {layerCount} layers"
                : string.Empty;
            AddScale(s, compounded);
        }

        return this;
    }

    /// <summary>Adds the init-scale cause, ranked first, when the measured scale is off by more than <paramref name="factor"/>.</summary>
    public Diagnosis AddInitScaleBeyond(InitializationScale? scale, double factor)
    {
        if (scale is InitializationScale s && IsOff(s.Ratio, factor))
        {
            AddScale(s, string.Empty);
        }

        return this;
    }

    /// <summary>Adds the saturating-activation cause when the layer is followed by tanh or sigmoid.</summary>
    public Diagnosis AddSaturatingActivation(LayerDescriptor layer)
    {
        if (layer.FollowingActivation is ActivationKind.Sigmoid or ActivationKind.Tanh)
        {
            string bound = layer.FollowingActivation == ActivationKind.Sigmoid ? "at most 0.25 anywhere" : "at most 1, ~0 beyond |x| > 3";
            Add(GradientAlertCause.SaturatingActivation, $"saturating activation: {layer.FollowingActivation} has a derivative near 0 in its tails ({bound})",
                GradientAlertFix.SwitchActivation, "switch to ReLU or GELU (then use He init)");
        }

        return this;
    }

    /// <summary>Adds the depth cause when the network has at least <see cref="DeepNetworkLayers"/> layers.</summary>
    public Diagnosis AddDepth(int layerCount)
    {
        if (layerCount >= DeepNetworkLayers)
        {
            Add(GradientAlertCause.Depth, $"depth: the signal is multiplied by one factor per layer over {layerCount} layers",
                GradientAlertFix.ResidualAndNormalization, "add residual connections and normalization layers (BatchNorm / LayerNorm)");
        }

        return this;
    }

    /// <summary>When the evidence named no cause, adds the classic ones for the pathology
    /// (<see cref="ClassicCauses"/>).</summary>
    public Diagnosis OrClassic(Action<Diagnosis> addClassicCauses)
    {
        if (_entries.Count == 0)
        {
            addClassicCauses(this);
        }

        return this;
    }

    /// <summary>Builds a one-criterion alert: the message is the evidence text followed by the causes and fixes.</summary>
    public GradientAlert ToAlert(GradientAlertKind kind, GradientAlertSeverity severity, long step, string layer, string metric, double value, double threshold,
        string evidence, string? origin = null) =>
        ToAlert(kind, severity, step, layer, [new GradientAlertCriterion(metric, value, threshold)], evidence, origin);

    /// <summary>Builds an alert carrying <paramref name="criteria"/> (the headline first): the message is the evidence
    /// text followed by the causes and fixes, ranked.</summary>
    public GradientAlert ToAlert(GradientAlertKind kind, GradientAlertSeverity severity, long step, string layer,
        IReadOnlyList<GradientAlertCriterion> criteria, string evidence, string? origin = null)
    {
        var message = new StringBuilder(evidence.TrimEnd());
        if (message.Length > 0 && message[^1] != '.')
        {
            message.Append('.');
        }

        IReadOnlyList<GradientAlertCause> causes = Causes;
        IReadOnlyList<GradientAlertFix> fixes = Fixes;
        if (causes.Count > 0)
        {
            message.Append(" Likely causes: ").AppendJoin("; ", causes).Append('.');
            message.Append(" Fixes: ").AppendJoin("; ", fixes).Append('.');
        }

        GradientAlertCriterion headline = criteria[0];
        return new GradientAlert(kind, severity, step, layer, headline.Metric, headline.Value, headline.Threshold, message.ToString())
        {
            Causes = causes,
            Fixes = fixes,
            Criteria = [.. criteria],
            Origin = origin,
        };
    }

    private static bool IsOff(double ratio, double factor) => ratio > factor || ratio < 1 / factor;

    private void AddScale(InitializationScale s, string compounded)
    {
        string measured = $"weight std {MessageNumber.Format(s.Measured)} is {MessageNumber.Format(s.Ratio)}×";
        string init = s.Scheme == "He" ? "kaiming_normal_" : "xavier_normal_";
        Add(new(GradientAlertCause.InitScale, $"init scale: {measured} the {s.Scheme} expectation {MessageNumber.Format(s.Expected)}{compounded}"),
            new(GradientAlertFix.InitializeForGradientFlow, $"{LibraryRemedies.InitializeForGradientFlow}; or re-initialise with {s.Scheme} ({init})"),
            MeasuredScaleRank);
    }

    private Diagnosis Add(GradientAlertCause cause, GradientAlertFix fix, int rank)
    {
        if (!_entries.Exists(e => e.Cause.Text == cause.Text))
        {
            _entries.Add((cause, fix, rank));
        }

        return this;
    }

    private IEnumerable<(GradientAlertCause Cause, GradientAlertFix Fix, int Rank)> Ranked() => _entries.OrderBy(e => e.Rank);
}
