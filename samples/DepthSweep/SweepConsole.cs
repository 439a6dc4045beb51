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
        foreach (string column in new[] { "act", "init", "depth", "theory", "measured", "first/last", "class", "alerts" })
        {
            table.AddColumn(column);
        }

        foreach (SweepRow r in rows)
        {
            string color = r.Class switch
            {
                DepthClass.Safe => "green",
                DepthClass.StartingToVanish or DepthClass.StartingToExplode or DepthClass.Unmeasured => "yellow",
                _ => "red",
            };
            table.AddRow(
                r.Activation.ToString(), r.Init.ToString(), r.Depth.ToString(CultureInfo.InvariantCulture),
                r.TheoryGain.ToString("F3", CultureInfo.InvariantCulture), r.MeasuredGain.ToString("F3", CultureInfo.InvariantCulture),
                DepthSweepRunner.FormatRatio(r.FirstToLastRatio), $"[{color}]{DepthSweepRunner.Describe(r.Class)}[/]", Markup.Escape(r.Alerts));
        }

        console.Write(table);
        WriteDivergingChart(console, rows, settings.Depths.Max());

        if (markdown is not null)
        {
            File.WriteAllText(markdown.FullName, DepthSweepRunner.ToMarkdown(rows, command));
            console.MarkupLine($"Markdown table written to [blue]{Markup.Escape(markdown.FullName)}[/].");
        }

        return 0;
    }

    /// <summary>A text chart of log10(first/last ‖∂L/∂z‖) at the deepest depth, left of the axis when the signal
    /// vanishes towards the input and right when it explodes (Spectre's bar chart has no negative bars).</summary>
    private static void WriteDivergingChart(IAnsiConsole console, List<SweepRow> rows, int depth)
    {
        const int HalfWidth = 24;
        SweepRow[] deepest = [.. rows.Where(r => r.Depth == depth && !double.IsNaN(r.FirstToLastRatio))];
        if (deepest.Length == 0)
        {
            return;
        }

        double scale = Math.Max(1, deepest.Select(r => Math.Abs(Math.Log10(r.FirstToLastRatio))).Where(double.IsFinite).DefaultIfEmpty(1).Max());
        console.MarkupLine($"log10(first/last ‖∂L/∂z‖) at depth {depth}: [red]◀ vanishes[/] | [orange1]explodes ▶[/]");
        foreach (SweepRow r in deepest)
        {
            double decades = Math.Log10(r.FirstToLastRatio);
            int bar = double.IsFinite(decades) ? (int)Math.Round(Math.Abs(decades) / scale * HalfWidth) : HalfWidth;
            string left = decades < 0 ? new string(' ', HalfWidth - bar) + $"[red]{new string('█', bar)}[/]" : new string(' ', HalfWidth);
            string right = decades > 0 ? $"[orange1]{new string('█', bar)}[/]" : string.Empty;
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"{$"{r.Activation}/{r.Init}",-15} {left}│{right} {(double.IsFinite(decades) ? decades.ToString("F1", CultureInfo.InvariantCulture) : "underflow")}"));
        }
    }
}
