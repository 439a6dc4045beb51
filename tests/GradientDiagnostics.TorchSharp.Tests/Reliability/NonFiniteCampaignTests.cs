using Xunit.Abstractions;

namespace GradientDiagnostics.TorchSharp.Tests.Reliability;

/// <summary>Issue 9 §1: a seeded 1,000-step run with NaN / ±Infinity injected at 5% of the steps into a gradient, the
/// loss, an activation or the input.</summary>
public sealed class NonFiniteCampaignTests(ITestOutputHelper output)
{
    [Fact]
    public void With_default_protection_weights_stay_finite_every_injection_is_reported_and_training_matches_a_clean_run()
    {
        var campaign = new FaultCampaign(steps: 1000, rate: 0.05);
        using var model = FaultCampaign.CreateModel();
        using var monitor = model.AttachGradientMonitor();
        var alertsByStep = new Dictionary<long, List<GradientAlert>>();
        monitor.AlertRaised += (_, alert) => (alertsByStep.TryGetValue(alert.Step, out var list) ? list : alertsByStep[alert.Step] = []).Add(alert);
        string[] layers = [.. monitor.LayerNames];
        int corruptedSteps = 0, alerted = 0, quietRepeats = 0, skipped = 0;
        var unreported = new List<string>();
        string? previousSource = null;

        var watch = System.Diagnostics.Stopwatch.StartNew();
        campaign.Train(model, monitor, (step, result) =>
        {
            corruptedSteps += FaultCampaign.WeightsAreFinite(model) ? 0 : 1;
            skipped += result!.SkipStep ? 1 : 0;
            if (!campaign.Injections.TryGetValue(step, out Injection? injection))
            {
                Assert.False(result.SkipStep, $"step {step} has no injection but was skipped");
                Assert.DoesNotContain(result.Alerts, a => a.Kind == GradientAlertKind.NonFinite);
                previousSource = null;
                return;
            }

            // A gradient fault is named by its layer; a fault before backward (loss, activation, input) makes the loss
            // non-finite, and the detector names the loss (every gradient is then non-finite too).
            string expected = injection.Site == FaultSite.Gradient ? layers[injection.Layer] : GradientAlert.LossLayerName;
            bool inStepResult = expected == GradientAlert.LossLayerName
                ? result.Loss is double loss && !double.IsFinite(loss)
                : result.Layers[injection.Layer].Gradient.NonFiniteCount > 0;
            bool alert = alertsByStep.GetValueOrDefault(step)?.Any(a => a.Kind == GradientAlertKind.NonFinite && a.Layer == expected) == true;
            // The detector's episode rule: the same source on the very next step is one episode, quiet for the cooldown.
            // Such a repeat still counts as reported only through the step result (SkipStep and the per-layer counts).
            bool repeat = !alert && previousSource == expected && step > 0 && campaign.Injections.ContainsKey(step - 1);
            alerted += alert ? 1 : 0;
            quietRepeats += repeat ? 1 : 0;
            if (!result.SkipStep || !inStepResult || !(alert || repeat))
            {
                unreported.Add($"step {step}: {injection} skip={result.SkipStep} inResult={inStepResult} alert={alert}");
            }

            previousSource = expected;
        });

        double monitored = FaultCampaign.EvaluationLoss(model);
        output.WriteLine($"monitored run {watch.Elapsed}");
        using var clean = FaultCampaign.CreateModel();
        campaign.Train(clean, monitor: null, (_, _) => { });
        double reference = FaultCampaign.EvaluationLoss(clean);
        output.WriteLine($"both runs {watch.Elapsed}");
        output.WriteLine($"{campaign.Steps} steps, {campaign.Injections.Count} injections ({string.Join(", ", campaign.Injections.Values.GroupBy(i => i.Site).Select(g => $"{g.Key} {g.Count()}"))}), " +
            $"{corruptedSteps} steps with non-finite weights, {skipped} skipped, {alerted} alerts naming the source, {quietRepeats} consecutive repeats; final loss {monitored:G6} vs clean {reference:G6}");

        Assert.Equal(50, campaign.Injections.Count);
        Assert.Equal(0, corruptedSteps);
        Assert.Empty(unreported);
        Assert.Equal(campaign.Injections.Count, skipped);
        // The monitor only reads (no clipping by default) and skips exactly the injected steps, which the clean run skips
        // too: the two runs apply the same updates to the same weights, so they end bit for bit equal.
        Assert.Equal(reference, monitored);
        Assert.True(FaultCampaign.WeightsAreEqual(model, clean), "the faulty run's weights differ from the clean run's");
    }

    [Theory]
    [InlineData(FaultSite.Gradient)]
    [InlineData(FaultSite.Loss)]
    [InlineData(FaultSite.Activation)]
    [InlineData(FaultSite.Input)]
    internal void With_protection_off_the_first_injection_is_reported_naming_the_layer_closest_to_the_loss(FaultSite site)
    {
        var campaign = new FaultCampaign(steps: 200, rate: 0.05);
        int first = campaign.Injections.Keys.Min();
        using var model = FaultCampaign.CreateModel();
        // Step() without the loss: the monitor must localize the fault from the gradients alone.
        using var monitor = model.AttachGradientMonitor(o => o.SkipNonFiniteSteps = false);
        var alerts = new List<GradientAlert>();
        monitor.AlertRaised += (_, alert) => alerts.Add(alert);
        bool weightsCorrupted = false;

        campaign.Train(model, monitor, (step, result) =>
        {
            Assert.False(result!.SkipStep);
            weightsCorrupted |= !FaultCampaign.WeightsAreFinite(model);
        }, passLoss: false, lastStep: first + 3, site: site);

        GradientAlert alert = Assert.Single(alerts, a => a.Kind == GradientAlertKind.NonFinite && a.Step == first);
        // A gradient fault is in one layer only, so that layer is the closest to the loss with non-finite gradients; a
        // fault before backward reaches every gradient, so the layer named is the last one (the head).
        string expected = site == FaultSite.Gradient ? monitor.LayerNames[campaign.Injections[first].Layer] : monitor.LayerNames[^1];
        Assert.Equal(expected, alert.Layer);
        Assert.DoesNotContain(alerts, a => a.Kind == GradientAlertKind.NonFinite && a.Step < first);
        Assert.True(weightsCorrupted, "without protection the optimizer applies the non-finite step");
    }
}
