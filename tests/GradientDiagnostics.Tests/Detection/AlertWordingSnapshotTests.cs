using GradientDiagnostics.Testing;
using System.Text;

namespace GradientDiagnostics.Tests.Detection;

/// <summary>
/// The one test that keeps the wording of alerts: the messages, causes and fixes of a fixed set of alerts, each raised by
/// the detectors on real arrays, against <c>AlertWording.approved.txt</c>. Every other test asserts identifiers
/// (<see cref="GradientAlertCause"/>, <see cref="GradientAlertFix"/>) and short fragments. When wording changes on purpose,
/// copy <c>AlertWording.received.txt</c> over the approved file.
/// </summary>
public sealed class AlertWordingSnapshotTests
{
    [Fact]
    public void Alert_wording_is_approved()
    {
        var text = new StringBuilder();
        foreach (GradientAlert alert in Alerts())
        {
            text.Append(alert).Append('\n');
            text.Append("  causes: ").AppendJoin(" | ", alert.Causes.Select(c => $"{c.Id}: {c.Text}")).Append('\n');
            text.Append("  fixes: ").AppendJoin(" | ", alert.Fixes.Select(f => $"{f.Id}: {f.Text}")).Append('\n');
        }

        string folder = Path.Combine(RepositoryRoot.Path, "tests", "GradientDiagnostics.Tests", "Detection");
        string approved = File.ReadAllText(Path.Combine(folder, "AlertWording.approved.txt")).ReplaceLineEndings("\n");
        string received = text.ToString();
        if (received != approved)
        {
            File.WriteAllText(Path.Combine(folder, "AlertWording.received.txt"), received);
        }

        Assert.Equal(approved, received);
    }

    private static IEnumerable<GradientAlert> Alerts()
    {
        // Vanishing in a deep sigmoid net whose first layer has a tiny init: every cause from the evidence.
        LayerDescriptor[] sigmoid = Synthetic.Linear(12, 100, ActivationKind.Sigmoid);
        GradientAnalyzer vanishing = Synthetic.Analyzer(sigmoid, o => (o.Vanishing.Persistence, o.Vanishing.PersistenceWindow, o.PoorInitialization.Enabled) = (1, 1, false));
        LayerObservation[] step = [.. Enumerable.Range(0, 12).Select(i =>
            LayerObservations.Create(Synthetic.Filled(100, i == 0 ? 1e-9f : 1e-2f), Synthetic.Weights(10_000, i == 0 ? 0.01 : 0.1)))];
        foreach (GradientAlert alert in vanishing.Analyze(step).Alerts)
        {
            yield return alert;
        }

        // Without evidence: the classic causes; exploding without and with clipping; non-finite gradients.
        GradientAnalyzer classic = Synthetic.Analyzer([new LayerDescriptor("a")], o => (o.Vanishing.Persistence, o.Vanishing.PersistenceWindow) = (1, 1));
        yield return Assert.Single(classic.Analyze([Synthetic.Gradient(10, 1e-9f)]).Alerts);
        GradientAnalyzer exploding = Synthetic.Analyzer([new LayerDescriptor("a")]);
        yield return Assert.Single(exploding.Analyze([Synthetic.Gradient(100, 5000f)]).Alerts);
        yield return Assert.Single(exploding.Analyze([Synthetic.Gradient(100, float.NaN)]).Alerts);
        GradientAnalyzer clipped = Synthetic.Analyzer([new LayerDescriptor("a")], o => o.Clipping = GradientClipping.ByGlobalNorm(1.0));
        yield return Assert.Single(clipped.Analyze([Synthetic.Gradient(100, 5000f)]).Alerts);
    }
}
