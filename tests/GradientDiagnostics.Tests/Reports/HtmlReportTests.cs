using System.Text.RegularExpressions;
using GradientDiagnostics.Tests.Telemetry;

namespace GradientDiagnostics.Tests.Reports;

public sealed partial class HtmlReportTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-report-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Report_is_one_self_contained_file_with_the_four_sections()
    {
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(10);
        SyntheticRun.Run(analyzer, 30, gain: 0.1, nanSteps: 20);

        string html = analyzer.CreateReport("sigmoid <net>").ToHtml();

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(UrlPattern().Matches(html), m => m.Value != "http://www.w3.org/2000/svg");
        Assert.Contains("sigmoid &lt;net&gt;", html, StringComparison.Ordinal);
        foreach (string id in new[] { "gradient-flow", "depth-profile", "global-norm", "alerts" })
        {
            Assert.Contains($"id=\"{id}\"", html, StringComparison.Ordinal);
        }

        Assert.Contains("Likely causes", html, StringComparison.Ordinal);
        Assert.Contains("Fitted gain per layer g = <b>0.1", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_from_the_json_lines_file_equals_the_live_report()
    {
        string path = Path.Combine(_directory, "run.jsonl");
        string live;
        using (GradientAnalyzer analyzer = SyntheticRun.Analyzer(6, o => (o.Telemetry.JsonLinesPath, o.Telemetry.ExportInterval) = (path, 5)))
        {
            SyntheticRun.Run(analyzer, 23, gain: 0.2, nanSteps: 17);
            live = analyzer.CreateReport("run.jsonl").ToHtml();
        }

        GradientReport offline = GradientReport.FromJsonLines(path);

        Assert.Equal(23, offline.StepCount);
        Assert.Equal(WithoutTimestamp(live), WithoutTimestamp(offline.ToHtml()));
    }

    [Fact]
    public void Report_renders_in_headless_chromium_with_marks_in_every_chart()
    {
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(12);
        List<GradientStepResult> results = SyntheticRun.Run(analyzer, 40, gain: 0.3, nanSteps: 25);
        string html = Path.Combine(_directory, "report.html");
        analyzer.CreateReport("rendering test").Save(html);

        string dom = Chromium.DumpDom(html);
        string png = Path.Combine(_directory, "report.png");
        Chromium.Screenshot(html, png);

        // Chromium parsed the SVG into elements: two bars per layer (+3 legend swatches), one point per probed layer
        // plus the fitted line, the norm line and one marker per step with alerts.
        Assert.Equal((2 * 12) + 3, Count(Svg(dom, "gradient-flow"), "rect"));
        Assert.Equal(12, Count(Svg(dom, "depth-profile"), "circle"));
        Assert.Equal(1, Count(Svg(dom, "depth-profile"), "path"));
        Assert.Equal(results.Count(r => r.Alerts.Count > 0), Count(Svg(dom, "global-norm"), "circle"));
        Assert.Equal(2, Count(Svg(dom, "global-norm"), "path"));
        Assert.Equal(results.Sum(r => r.Alerts.Count), Regex.Matches(dom, "<tr class=").Count);

        // And painted them: the bar, point and fitted-line colours cover real areas of the screenshot.
        PngImage image = PngImage.Load(png);
        Assert.Equal((1200, 1600), (image.Width, image.Height));
        Assert.InRange(CountPixels(image, 0x08, 0x51, 0x9c), 2000, int.MaxValue);
        Assert.InRange(CountPixels(image, 0x9e, 0xca, 0xe1), 2000, int.MaxValue);
        Assert.InRange(CountPixels(image, 0xff, 0x7f, 0x0e), 200, int.MaxValue);
    }

    [Fact]
    public void Saving_to_an_unwritable_path_says_so()
    {
        string file = Path.Combine(_directory, "a-file");
        File.WriteAllText(file, "x");
        using GradientAnalyzer analyzer = SyntheticRun.Analyzer(2);

        var ex = Assert.Throws<ArgumentException>(() => analyzer.CreateReport().Save(Path.Combine(file, "report.html")));

        Assert.Contains("cannot write", ex.Message, StringComparison.Ordinal);
    }

    private static string WithoutTimestamp(string html) => GeneratedAt().Replace(html, string.Empty);

    private static string Svg(string dom, string id)
    {
        Match match = Regex.Match(dom, $"<svg[^>]*id=\"{id}\".*?</svg>", RegexOptions.Singleline);
        Assert.True(match.Success, $"no <svg id=\"{id}\"> in the rendered DOM");
        return match.Value;
    }

    private static int Count(string svg, string element) => Regex.Matches(svg, $"<{element}[ >/]").Count;

    private static int CountPixels(PngImage image, byte r, byte g, byte b)
    {
        int count = 0;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                (byte pr, byte pg, byte pb) = image[x, y];
                if (Math.Abs(pr - r) <= 6 && Math.Abs(pg - g) <= 6 && Math.Abs(pb - b) <= 6)
                {
                    count++;
                }
            }
        }

        return count;
    }

    [GeneratedRegex("https?://[^\"' )]+")]
    private static partial Regex UrlPattern();

    [GeneratedRegex(" at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ")]
    private static partial Regex GeneratedAt();
}
