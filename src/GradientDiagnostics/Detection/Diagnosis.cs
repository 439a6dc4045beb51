using System.Globalization;
using System.Text;

namespace GradientDiagnostics;

/// <summary>
/// Builds an alert's likely causes and fixes from the evidence the monitor holds, with the classic map from evidence
/// to fix: a saturating activation → ReLU/GELU; a wrong init scale → Xavier for tanh/sigmoid, He for ReLU; depth →
/// residual connections and normalization; exploding → a clipping policy and a smaller learning rate; NaN → skip the
/// step, lower the learning rate, check the data.
/// </summary>
internal sealed class Diagnosis
{
    /// <summary>A weight scale off its expectation by more than this factor either way is named as a cause. A factor
    /// of 2 changes the per-layer gain by 2, that is 2^10 ≈ 1e3 over ten layers.</summary>
    public const double InitScaleFactorWorthNaming = 2;

    /// <summary>From this many layers on, depth itself is named as a cause of vanishing or exploding signals: at 10
    /// layers without normalization the back-propagated signal already falls to 0.04 (ReLU + Xavier) or 2e-6
    /// (sigmoid + Xavier) of its value at the loss (docs/depth-sweep.md, produced by the DepthSweep sample).</summary>
    public const int DeepNetworkLayers = 10;

    private readonly List<string> _causes = [];
    private readonly List<string> _fixes = [];

    public IReadOnlyList<string> Causes => _causes;

    public IReadOnlyList<string> Fixes => _fixes;

    /// <summary>The text with its first letter in upper case, to start a sentence.</summary>
    public static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>Adds a cause and its fix, once.</summary>
    public Diagnosis Add(string cause, string fix)
    {
        if (!_causes.Contains(cause))
        {
            _causes.Add(cause);
            _fixes.Add(fix);
        }

        return this;
    }

    /// <summary>"layer 'fc3' (Sigmoid follows; weight std 0.21 vs Xavier 0.06)", with the parts that are known.</summary>
    public static string DescribeLayer(LayerDescriptor layer, InitializationScale? scale = null)
    {
        var parts = new List<string>(2);
        if (layer.FollowingActivation is not ActivationKind.Unknown)
        {
            parts.Add($"{layer.FollowingActivation} follows");
        }

        if (scale is InitializationScale s)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"weight std {s.Measured:G2} vs {s.Scheme} {s.Expected:G2}"));
        }

        return parts.Count == 0 ? $"layer '{layer.Name}'" : $"layer '{layer.Name}' ({string.Join("; ", parts)})";
    }

    /// <summary>Describes layer <paramref name="index"/> of a step with its activation and init evidence.</summary>
    public static string DescribeLayer(StepEvidence evidence, int index) =>
        DescribeLayer(evidence.Descriptors[index], InitializationScale.Measure(evidence.Descriptors[index], evidence.Layers[index]));

    /// <summary>Adds the init-scale cause when the measured scale is off by more than <see cref="InitScaleFactorWorthNaming"/>.</summary>
    public Diagnosis AddInitScale(InitializationScale? scale, double factor = InitScaleFactorWorthNaming)
    {
        if (scale is InitializationScale s && (s.Ratio > factor || s.Ratio < 1 / factor))
        {
            Add(string.Create(CultureInfo.InvariantCulture, $"init scale: weight std {s.Measured:G2} is {s.Ratio:G2}× the {s.Scheme} expectation {s.Expected:G2}"),
                $"re-initialise with {s.Scheme} ({(s.Scheme == "He" ? "kaiming_normal_" : "xavier_normal_")})");
        }

        return this;
    }

    /// <summary>Adds the saturating-activation cause when the layer is followed by tanh or sigmoid.</summary>
    public Diagnosis AddSaturatingActivation(LayerDescriptor layer)
    {
        if (layer.FollowingActivation is ActivationKind.Sigmoid or ActivationKind.Tanh)
        {
            Add($"saturating activation: {layer.FollowingActivation} has a derivative near 0 in its tails ({(layer.FollowingActivation == ActivationKind.Sigmoid ? "at most 0.25 anywhere" : "at most 1, ~0 beyond |x| > 3")})",
                "switch to ReLU or GELU (then use He init)");
        }

        return this;
    }

    /// <summary>Adds the depth cause when the network has at least <see cref="DeepNetworkLayers"/> layers.</summary>
    public Diagnosis AddDepth(int layerCount)
    {
        if (layerCount >= DeepNetworkLayers)
        {
            Add($"depth: the signal is multiplied by one factor per layer over {layerCount} layers",
                "add residual connections and normalization layers (BatchNorm / LayerNorm)");
        }

        return this;
    }

    /// <summary>When the evidence named no cause, adds the classic ones for the pathology.</summary>
    public Diagnosis OrClassic(Action<Diagnosis> addClassicCauses)
    {
        if (_causes.Count == 0)
        {
            addClassicCauses(this);
        }

        return this;
    }

    /// <summary>The classic causes of a vanishing signal, when the evidence is silent.</summary>
    public static void ClassicVanishing(Diagnosis d) => d
        .Add("saturating activations (sigmoid/tanh)", "use ReLU or GELU activations")
        .Add("too small an init scale", "use Xavier init for tanh/sigmoid layers and He init for ReLU layers")
        .Add("depth without normalization or residual paths", "add residual connections and BatchNorm / LayerNorm");

    /// <summary>The classic causes of an exploding signal.</summary>
    public static void ClassicExploding(Diagnosis d) => d
        .Add("too large a learning rate", "lower the learning rate (or warm it up)")
        .Add("no gradient clipping", "clip gradients by global norm (for example max norm 1.0)")
        .Add("too large an init scale or a per-layer gain above 1", "use Xavier / He init and normalization layers");

    /// <summary>Builds the alert: the message is the evidence sentence followed by the causes and fixes.</summary>
    public GradientAlert ToAlert(GradientAlertKind kind, GradientAlertSeverity severity, long step, string layer, string metric, double value, double threshold, string evidence, string? origin = null)
    {
        var message = new StringBuilder(evidence.TrimEnd());
        if (message.Length > 0 && message[^1] != '.')
        {
            message.Append('.');
        }

        if (_causes.Count > 0)
        {
            message.Append(" Likely causes: ").AppendJoin("; ", _causes).Append('.');
            message.Append(" Fixes: ").AppendJoin("; ", _fixes).Append('.');
        }

        return new GradientAlert(kind, severity, step, layer, metric, value, threshold, message.ToString())
        {
            LikelyCauses = [.. _causes],
            SuggestedFixes = [.. _fixes],
            Origin = origin,
        };
    }
}
