namespace GradientDiagnostics.Tests;

public sealed class GradientAnalyzerStepKindTests
{
    [Fact]
    public void Steps_are_full_every_interval_starting_at_step_0_and_cheap_otherwise()
    {
        var analyzer = new GradientAnalyzer(["a", "b"], new GradientMonitorOptions { FullStatisticsInterval = 4 });
        LayerObservation layer = new(TensorStatistics.Compute([0.1f, 0.2f]));

        var kinds = new List<(GradientStepKind Announced, GradientStepKind Reported)>();
        for (int step = 0; step < 9; step++)
        {
            GradientStepKind announced = analyzer.NextStepKind;
            kinds.Add((announced, analyzer.Analyze([layer, layer]).Kind));
        }

        Assert.All(kinds, k => Assert.Equal(k.Announced, k.Reported));
        Assert.Equal([0, 4, 8], kinds.Select((k, i) => (k, i)).Where(x => x.k.Reported == GradientStepKind.Full).Select(x => x.i));
    }
}
