using GradientDiagnostics.Samples.DepthSweep;
using Spectre.Console;

namespace GradientDiagnostics.Samples.Tests;

public sealed class DepthSweepTests
{
    [Theory]
    [InlineData(ActivationChoice.ReLU, InitKind.He)]
    [InlineData(ActivationChoice.ReLU, InitKind.Xavier)]
    [InlineData(ActivationChoice.Sigmoid, InitKind.Xavier)]
    [InlineData(ActivationChoice.Tanh, InitKind.Default)]
    public void Measured_gain_is_within_10_percent_of_mean_field_theory_at_width_128(ActivationChoice activation, InitKind init)
    {
        SweepRow row = DepthSweepRunner.Measure(depth: 20, activation, init, new SweepSettings { Width = 128, BatchSize = 64, Seeds = 1, Steps = 1 });

        Assert.InRange(row.MeasuredGain / row.TheoryGain, 0.9, 1.1);
    }

    [Fact]
    public void Classification_tells_vanishing_safe_and_exploding_apart()
    {
        var settings = new SweepSettings { Width = 128, BatchSize = 32, Seeds = 1, Steps = 1 };

        Assert.Equal(DepthClass.Vanishing, DepthSweepRunner.Measure(20, ActivationChoice.Sigmoid, InitKind.Xavier, settings).Class);
        Assert.Equal(DepthClass.Safe, DepthSweepRunner.Measure(20, ActivationChoice.ReLU, InitKind.He, settings).Class);
        Assert.Equal(DepthClass.Exploding, DepthSweepRunner.Measure(20, ActivationChoice.ReLU, InitKind.He2x, settings).Class);
    }

    [Fact]
    public void Console_run_prints_the_table_and_chart_and_writes_markdown()
    {
        var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        var markdown = new FileInfo(Path.Combine(Path.GetTempPath(), $"gd-sweep-{Guid.NewGuid():N}.md"));
        var settings = new SweepSettings { Depths = [2, 5], Activations = [ActivationChoice.Sigmoid], Inits = [InitKind.Xavier], Width = 32, BatchSize = 16, Seeds = 1, Steps = 1 };

        try
        {
            Assert.Equal(0, SweepConsole.Run(settings, markdown, "test", console));
            Assert.Contains("log10(first/last", writer.ToString(), StringComparison.Ordinal);
            Assert.Equal(2, File.ReadAllLines(markdown.FullName).Count(l => l.StartsWith("| Sigmoid |", StringComparison.Ordinal)));
        }
        finally
        {
            markdown.Delete();
        }
    }
}
