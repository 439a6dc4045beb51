using System.Globalization;
using System.Text;

namespace GradientDiagnostics;

/// <summary>
/// When a step's weights are non-finite, which optimizer step made them so, and what to say about it. The adapter
/// measures the weights on every step whose loss or gradients are non-finite (and on full steps), and a step whose loss
/// and gradients are finite ran a finite forward pass, so its weights were finite: the first step that sees them
/// non-finite follows the optimizer step that broke them, the one applied after the step before.
/// </summary>
internal sealed class NonFiniteWeightsHistory
{
    private long? _corruptedAfter;
    private bool _seenBefore;
    private bool _affected;

    /// <summary>The step after whose optimizer step the weights became non-finite; null when they were already non-finite
    /// at the first step observed. Valid after <see cref="Observe"/> returned true.</summary>
    public long? CorruptedAfterStep => _corruptedAfter;

    /// <summary>Records the step and says whether some weights are non-finite in it.</summary>
    public bool Observe(long step, int weightsAffected)
    {
        bool first = !_seenBefore;
        _seenBefore = true;
        if (weightsAffected == 0)
        {
            (_affected, _corruptedAfter) = (false, null);
            return false;
        }

        if (!_affected)
        {
            (_affected, _corruptedAfter) = (true, first ? null : step - 1);
        }

        return true;
    }

    /// <summary>The sentence that names the layers with non-finite weights (closest to the input first) and the optimizer
    /// step after which they became so.</summary>
    public string Describe(StepEvidence evidence)
    {
        LayerGradientStatistics[] layers = evidence.Layers;
        string[] names = [.. layers.Where(l => l.Parameters is TensorStatistics { IsFinite: false }).Select(l => $"'{l.Name}'")];
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"The weights of ")
            .Append(CultureInfo.InvariantCulture,
            $"{string.Join(", ", names.Take(5))}{(names.Length > 5 ? $" and {names.Length - 5} more layers" : string.Empty)} are non-finite ");
        text.Append(_corruptedAfter is long after
            ? string.Create(CultureInfo.InvariantCulture, $"since the optimizer step applied after step {after}: at step {after} they were finite")
            : "since before the first monitored step");
        text.Append("; this step's non-finite values come from them, not from an operation of the forward pass. ");
        return text.ToString();
    }

    /// <summary>Adds the causes that fit the weights' format: 16-bit optimizer state for 16-bit weights.</summary>
    public static void AddCauses(StepEvidence evidence, Diagnosis diagnosis)
    {
        NumericFormat[] formats = [.. evidence.Layers.Where(l => l.Parameters is TensorStatistics { IsFinite: false }).Select(l => l.ParameterFormat)
            .Distinct()];
        const string MasterWeights = "keep fp32 master weights and optimizer state: `var mp = monitor.EnableMixedPrecision();`, build the optimizer on " +
            "`mp.MasterParameters`, step it with `mp.Step(optimizer)`; restore the last good checkpoint first";
        if (formats.Contains(NumericFormat.Float16))
        {
            diagnosis.Add(GradientAlertCause.SixteenBitOptimizerState,
                "16-bit optimizer state: the optimizer keeps its state in the float16 parameters' dtype, where Adam's eps = 1e-8 is 0 "
                + "(float16's smallest value is 5.96e-08), so an update divides by zero; any update above 65504 is Inf as well",
                GradientAlertFix.MasterWeights, MasterWeights);
        }

        if (formats.Contains(NumericFormat.BFloat16))
        {
            diagnosis.Add(GradientAlertCause.SixteenBitOptimizerState,
                "16-bit optimizer state: the optimizer computes its update in the bfloat16 parameters' dtype, with 8 significant bits",
                GradientAlertFix.MasterWeights, MasterWeights);
        }

        if (!formats.Any(f => f is NumericFormat.Float16 or NumericFormat.BFloat16))
        {
            diagnosis.Add(GradientAlertCause.CorruptWeights, "the weights themselves are corrupt: an earlier non-finite or overflowing update was applied",
                GradientAlertFix.ReloadCheckpoint, "reload the last good checkpoint and keep SkipNonFiniteSteps on");
        }
    }

    /// <summary>Adds this history to a detector's saved state.</summary>
    public ComponentState SaveState(ComponentState state) =>
        state.With("weightsCorruptedAfter", _corruptedAfter ?? -1).With("weightsSeen", _seenBefore).With("weightsAffected", _affected);

    /// <summary>Restores what <see cref="SaveState"/> added.</summary>
    public void LoadState(ComponentState state)
    {
        long after = state.CountOf("weightsCorruptedAfter");
        (_corruptedAfter, _seenBefore, _affected) = (after < 0 ? null : after, state.FlagOf("weightsSeen"), state.FlagOf("weightsAffected"));
    }
}
