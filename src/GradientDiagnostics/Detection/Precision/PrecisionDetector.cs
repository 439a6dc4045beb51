using System.Globalization;

namespace GradientDiagnostics;

/// <summary>
/// Fires when a 16-bit layer loses its signal to its number format: its gradients underflow (most elements zero or
/// subnormal as stored), or the optimizer step left most of its weights bit-identical (updates lost in rounding). Each
/// criterion has its own persistence and cooldown, and moves only on steps that measured it.
/// </summary>
internal sealed class PrecisionDetector(PrecisionOptions options) : IGradientDetector
{
    private readonly AlertGate _underflow = new(options);
    private readonly AlertGate _lostUpdates = new(options);

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        LayerGradientStatistics[] layers = evidence.Layers;
        (int worst, int measured, int above) = Worst(layers, l => l.UnderflowFraction, options.UnderflowFractionThreshold, inclusive: false);
        if (measured > 0 && _underflow.Observe(evidence.Step, above > 0))
        {
            alerts.Add(Underflow(evidence, layers[worst], measured, above));
        }

        // A skipped step applied no update: every weight is unchanged for a reason that has nothing to do with precision.
        (worst, measured, above) = Worst(layers, l => l.LostUpdateFraction, options.LostUpdateFractionThreshold, inclusive: true);
        if (measured > 0 && !evidence.PreviousStepSkipped && _lostUpdates.Observe(evidence.Step, above > 0))
        {
            alerts.Add(LostUpdates(evidence, layers[worst], measured, above));
        }
    }

    private static (int Worst, int Measured, int Above) Worst(LayerGradientStatistics[] layers, Func<LayerGradientStatistics, double?> figure, double threshold,
        bool inclusive)
    {
        int worst = -1, measured = 0, above = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            if (figure(layers[i]) is not double value || double.IsNaN(value))
            {
                continue;
            }

            measured++;
            if (inclusive ? value >= threshold : value > threshold)
            {
                above++;
                worst = worst < 0 || value > figure(layers[worst])!.Value ? i : worst;
            }
        }

        return (worst, measured, above);
    }

    private GradientAlert Underflow(StepEvidence evidence, LayerGradientStatistics layer, int measured, int above)
    {
        double fraction = layer.UnderflowFraction!.Value;
        string format = FormatName(layer.ParameterFormat);
        string smallest = layer.ParameterFormat == NumericFormat.BFloat16 ? "2⁻¹²⁶" : "2⁻¹⁴ = 6.10e-05";
        string headroom = layer.OverflowHeadroomBits is double bits && double.IsFinite(bits)
            ? $" Its largest gradient element is {Number(bits)} bits (×{Number(Math.Pow(2, bits))}) below {format}'s largest value: a loss scale up to that " +
                "factor keeps this layer finite."
            : string.Empty;
        string zero = layer.ParameterFormat == NumericFormat.BFloat16 ? "2⁻¹³³" : "2⁻²⁴ = 5.96e-08";
        Diagnosis diagnosis = new Diagnosis()
            .Add(GradientAlertCause.Underflow,
                $"{format} underflow: gradient elements below {smallest} are stored as subnormals, with fewer significant bits, and those below {zero} as 0",
                GradientAlertFix.LossScaling,
                "scale the loss up before backward: `monitor.EnableMixedPrecision()` scales it dynamically (LossScaling.Dynamic, the default for float16) "
                + "and keeps fp32 master weights; with a static scale, raise it (`model.CheckGradientFlow(...).Float16.MinLossScale` gives the smallest "
                + "that keeps every layer out of underflow)");
        return diagnosis.ToAlert(GradientAlertKind.Precision, GradientAlertSeverity.Warning, evidence.Step, layer.Name,
            GradientMetricNames.UnderflowFraction, fraction, options.UnderflowFractionThreshold,
            string.Create(CultureInfo.InvariantCulture,
                $"Layer '{layer.Name}' ({format}) loses its gradient to underflow: {Number(fraction * 100)}% of its gradient elements are zero or subnormal ") +
                    string.Create(CultureInfo.InvariantCulture, $"as stored, above the {Number(options.UnderflowFractionThreshold * 100)}% threshold; ") +
                    string.Create(CultureInfo.InvariantCulture, $"{above} of {measured} 16-bit layers are above it.{headroom}"));
    }

    private GradientAlert LostUpdates(StepEvidence evidence, LayerGradientStatistics layer, int measured, int above)
    {
        double fraction = layer.LostUpdateFraction!.Value;
        string format = FormatName(layer.ParameterFormat);
        string halfUlp = layer.ParameterFormat == NumericFormat.Float16 ? "between 2⁻¹²·|w| and 2⁻¹¹·|w|" : "between 2⁻⁹·|w| and 2⁻⁸·|w|";
        Diagnosis diagnosis = new Diagnosis()
            .Add(GradientAlertCause.LostUpdates,
                $"{format} weights round away every update smaller than half their ulp ({halfUlp}; Zamirai et al. 2020), so small learning rates or "
                + "small gradients leave them unchanged",
                GradientAlertFix.MasterWeights,
                "keep fp32 master weights: `var mp = monitor.EnableMixedPrecision();`, build the optimizer on `mp.MasterParameters` and step it with "
                + "`mp.Step(optimizer)` (or train in float32)");
        return diagnosis.ToAlert(GradientAlertKind.Precision, GradientAlertSeverity.Warning, evidence.Step, layer.Name,
            GradientMetricNames.LostUpdateFraction, fraction, options.LostUpdateFractionThreshold,
            string.Create(CultureInfo.InvariantCulture,
                $"Layer '{layer.Name}' ({format}) loses its weight updates to rounding: the last optimizer step left {Number(fraction * 100)}% of its ") +
                    string.Create(CultureInfo.InvariantCulture, $"weight elements bit-identical, at or above the ") +
                    string.Create(CultureInfo.InvariantCulture, $"{Number(options.LostUpdateFractionThreshold * 100)}% threshold; {above} of {measured} ") +
                    string.Create(CultureInfo.InvariantCulture, $"16-bit layers are."));
    }

    private static string Number(double value) => MessageNumber.Format(value);

    private static string FormatName(NumericFormat format) => format switch
    {
        NumericFormat.Float16 => "float16",
        NumericFormat.BFloat16 => "bfloat16",
        _ => "16-bit",
    };

    public ComponentState SaveState(IReadOnlyList<string> layerNames) => new ComponentState().With("underflow", _underflow).With("lostUpdates", _lostUpdates);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("underflow", _underflow);
        state.Load("lostUpdates", _lostUpdates);
    }
}
