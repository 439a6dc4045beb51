using System.Globalization;

namespace GradientDiagnostics;

/// <summary>The <see cref="GradientAlertKind.Recovery"/> alerts of <see cref="RecoveryPolicy"/>: what it did at a step,
/// why, and what comes next. Kept apart from the decisions so the state machine reads without its wording.</summary>
internal static class RecoveryAlerts
{
    /// <summary>The alert of a refused step: its norm spiked (the only reason to refuse); a spiking loss is mentioned.</summary>
    public static GradientAlert Refused(long step, double globalNorm, GlobalNormSpike normSpike, ExplodingOptions spike, double movingMean,
        (double Loss, double ZScore, double Mean)? lossSpike, int failing, int rollbackAfter)
    {
        string why = normSpike.ZScoreSpike
            ? string.Create(CultureInfo.InvariantCulture, $"the global gradient norm spiked to {MessageNumber.Format(globalNorm)} (z-score ") +
                string.Create(CultureInfo.InvariantCulture, $"{MessageNumber.Format(normSpike.ZScore)} against the applied steps' moving mean ") +
                string.Create(CultureInfo.InvariantCulture, $"{MessageNumber.Format(movingMean)})")
            : string.Create(CultureInfo.InvariantCulture, $"the global gradient norm spiked to {MessageNumber.Format(globalNorm)} ") +
                string.Create(CultureInfo.InvariantCulture, $"({MessageNumber.Format(normSpike.OverEarlyMax)}× the largest norm of the first ") +
                string.Create(CultureInfo.InvariantCulture, $"{spike.EarlySteps} applied steps)");
        if (lossSpike is (double loss, double lossZ, double lossMean))
        {
            why += string.Create(CultureInfo.InvariantCulture, $" and the loss spiked to {MessageNumber.Format(loss)} (z-score ") +
                string.Create(CultureInfo.InvariantCulture, $"{MessageNumber.Format(lossZ)}, {MessageNumber.Format(loss / lossMean)}× the mean ") +
                string.Create(CultureInfo.InvariantCulture, $"{MessageNumber.Format(lossMean)} of the recent healthy steps)");
        }

        return new GradientAlert(GradientAlertKind.Recovery, GradientAlertSeverity.Warning, step, GradientAlert.GlobalLayerName,
            normSpike.ZScoreSpike ? GradientMetricNames.GlobalGradientNormZScore : GradientMetricNames.GlobalGradientNormRatioToEarlyMax,
            normSpike.ZScoreSpike ? normSpike.ZScore : normSpike.OverEarlyMax,
            normSpike.ZScoreSpike ? spike.SpikeZScoreThreshold : spike.SpikeFactorOverEarlyMax,
            $"Refused this step before the optimizer applies it: {why}. The weights are unchanged; an outlier batch is the usual cause. {failing} " +
                $"consecutive failing step(s); a rollback follows at {rollbackAfter}.");
    }

    /// <summary>The alert of a rollback to the snapshot of <paramref name="target"/>.</summary>
    public static GradientAlert RolledBack(long step, long target, int failing, int rollbackAfter, double? learningRateScale, int learningRateSteps,
        int rollbacks, int maxRollbacks, int rollbackWindow)
    {
        string rate = learningRateScale is double f
            ? string.Create(CultureInfo.InvariantCulture, $" The learning rate is multiplied by {MessageNumber.Format(f)} for {learningRateSteps} steps.")
            : string.Empty;
        return new GradientAlert(GradientAlertKind.Recovery, GradientAlertSeverity.Warning, step, GradientAlert.GlobalLayerName,
            GradientMetricNames.ConsecutiveFailingSteps, failing, rollbackAfter, string.Create(CultureInfo.InvariantCulture,
                $"Rolled back to the snapshot of step {target}: {failing} consecutive steps failed (refused, non-finite, or with a spiking loss), so the ") +
                    string.Create(CultureInfo.InvariantCulture, $"weights or the optimizer state are likely damaged, or the burst of bad batches is long. ") +
                    string.Create(CultureInfo.InvariantCulture, $"Parameters, buffers and optimizer state were restored exactly; this step must not be ") +
                    string.Create(CultureInfo.InvariantCulture, $"applied.{rate} Rollback {rollbacks} of at most {maxRollbacks} within {rollbackWindow} ") +
                    string.Create(CultureInfo.InvariantCulture, $"steps."));
    }

    /// <summary>Why recovery gives up after <paramref name="failing"/> consecutive failing steps.</summary>
    public static string TooManyFailingSteps(int failing, int rollbacks) => string.Create(CultureInfo.InvariantCulture,
        $"{failing} consecutive steps failed (refused, non-finite, or with a spiking ") +
            string.Create(CultureInfo.InvariantCulture, $"loss){(rollbacks > 0 ? $" despite {rollbacks} rollback(s)" : string.Empty)}: the data stream or ") +
            string.Create(CultureInfo.InvariantCulture, $"the run stays corrupted");

    /// <summary>Why recovery gives up instead of rolling back once more.</summary>
    public static string TooManyRollbacks(int rollback, int window, int maxRollbacks) => string.Create(CultureInfo.InvariantCulture,
        $"a rollback would be number {rollback} within {window} steps (at most {maxRollbacks}): rolling back does not cure this run");

    /// <summary>The alert of giving up, with the limit that was reached.</summary>
    public static GradientAlert GaveUp(long step, string metric, double value, double threshold, string reason) =>
        new(GradientAlertKind.Recovery, GradientAlertSeverity.Critical, step, GradientAlert.GlobalLayerName, metric, value, threshold,
            $"Recovery gives up: {reason}. It stops refusing and rolling back from this step on; the monitor still skips non-finite steps. Inspect the data " +
                "and the learning rate, then restart from a checkpoint.");
}
