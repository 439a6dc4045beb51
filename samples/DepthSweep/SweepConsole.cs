using System.Globalization;
using Spectre.Console;

namespace GradientDiagnostics.Samples.DepthSweep;

/// <summary>Runs a sweep with a progress display, then prints the table and a chart.</summary>
public static class SweepConsole
{
    /// <summary>Runs the sweep; returns the process exit code.</summary>
    public static int Run(SweepSettings settings, FileInfo? markdown, string command, IAnsiConsole console)
    {
        var configurations = DepthSweepRunner.Configurations(settings).ToList();
        var rows = new List<SweepRow>();
        console.Progress().Start(context =>
        {
            ProgressTask task = context.AddTask("Sweeping", maxValue: configurations.Count);
            foreach ((int depth, ActivationChoice activation, InitKind init) in configurations)
            {
                task.Description = $"{activation} / {init} / depth {depth}";
                rows.Add(DepthSweepRunner.Measure(depth, activation, init, settings));
                task.Increment(1);
            }
        });

        var table = new Table().Title($"Per-layer gain of ‖∂L/∂z‖ at init (width {settings.Width}, batch {settings.BatchSize}, {settings.Seeds} seeds)");
        foreach (string column in new[] { "activation", "init", "depth", "theory gain", "measured gain", "first/last ‖∂L/∂z‖", "class", "alerts" })
        {
            table.AddColumn(column);
        }

        foreach (SweepRow r in rows)
        {
            string color = r.Class switch
            {
                DepthClass.Safe => "green",
                DepthClass.StartingToVanish or DepthClass.StartingToExplode => "yellow",
                _ => "red",
            };
            table.AddRow(
                r.Activation.ToString(), r.Init.ToString(), r.Depth.ToString(CultureInfo.InvariantCulture),
                r.TheoryGain.ToString("F3", CultureInfo.InvariantCulture), r.MeasuredGain.ToString("F3", CultureInfo.InvariantCulture),
                r.FirstToLastRatio.ToString("G3", CultureInfo.InvariantCulture), $"[{color}]{r.Class}[/]", Markup.Escape(r.Alerts));
        }

        console.Write(table);

        int deepest = settings.Depths.Max();
        var chart = new BarChart().Label($"log10(first/last ‖∂L/∂z‖) at depth {deepest}: below 0 vanishes, above 0 explodes").Width(80);
        foreach (SweepRow r in rows.Where(r => r.Depth == deepest))
        {
            double decades = Math.Log10(r.FirstToLastRatio);
            chart.AddItem($"{r.Activation}/{r.Init}", Math.Round(double.IsFinite(decades) ? decades : 0, 1), decades < -1 ? Color.Red : decades > 1 ? Color.Orange1 : Color.Green);
        }

        console.Write(chart);

        if (markdown is not null)
        {
            File.WriteAllText(markdown.FullName, DepthSweepRunner.ToMarkdown(rows, command));
            console.MarkupLine($"Markdown table written to [blue]{Markup.Escape(markdown.FullName)}[/].");
        }

        return 0;
    }
}
