namespace GradientDiagnostics.Tests.Reports;

public sealed class GradientRunHistoryTests
{
    private static readonly LayerDescriptor[] Layers = [new("a"), new("b")];

    private static GradientStepResult Step(long step, double norm, params GradientAlert[] alerts) => new()
    {
        Step = step,
        GlobalNorm = norm,
        SkipStep = !double.IsFinite(norm),
        Alerts = alerts,
    };

    [Fact]
    public void A_very_long_run_keeps_bounded_data_with_exact_counts_and_extremes()
    {
        var history = new GradientRunHistory(Layers, new ReportOptions { HistoryPoints = 16, MaxAlerts = 4 }, clipThreshold: null);
        const int Steps = 200_000;
        for (long s = 0; s < Steps; s++)
        {
            // A slow oscillation, one spike and one NaN; an alert every 1000 steps.
            double norm = s == 123_457 ? 1e6 : s == 150_000 ? double.NaN : 1 + (0.5 * Math.Sin(s / 5000.0));
            GradientAlert[] alerts = s % 1000 == 0 ? [new GradientAlert(GradientAlertKind.Vanishing, GradientAlertSeverity.Warning, s, "a", "m", 1, 2, "x")] : [];
            history.Add(Step(s, norm, alerts));
        }

        GradientReportSnapshot snapshot = history.Snapshot();

        Assert.InRange(snapshot.GlobalNorms.Count, 8, 17);
        Assert.Equal(Steps, snapshot.GlobalNorms.Sum(b => (long)b.Count));
        Assert.Equal(0, snapshot.GlobalNorms[0].FirstStep);
        Assert.Equal(Steps - 1, snapshot.GlobalNorms[^1].LastStep);
        Assert.All(snapshot.GlobalNorms.Zip(snapshot.GlobalNorms.Skip(1)), p => Assert.Equal(p.First.LastStep + 1, p.Second.FirstStep));
        Assert.Equal(1e6, snapshot.GlobalNorms.Max(b => b.Max));
        Assert.Equal(0.5, snapshot.GlobalNorms.Min(b => b.Min), 3);
        Assert.Equal(1, snapshot.GlobalNorms.Sum(b => b.NonFiniteCount));
        Assert.Equal((200L, 1L), (snapshot.AlertCount, snapshot.SkippedSteps));
        Assert.Equal([0L, 1000L, 198_000L, 199_000L], snapshot.Alerts.Select(a => a.Step));
        Assert.Equal(200, snapshot.AlertCounts[GradientAlertKind.Vanishing]);
    }

    [Fact]
    public void A_short_run_keeps_every_step_as_its_own_point()
    {
        var history = new GradientRunHistory(Layers, new ReportOptions(), clipThreshold: null);
        for (long s = 0; s < 10; s++)
        {
            history.Add(Step(s, s + 1));
        }

        GradientReportSnapshot snapshot = history.Snapshot();

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (double)i), snapshot.GlobalNorms.Select(b => b.Max));
        Assert.All(snapshot.GlobalNorms, b => Assert.Equal(1, b.Count));
    }
}
