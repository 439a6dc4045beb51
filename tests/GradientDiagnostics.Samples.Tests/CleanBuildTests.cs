using System.Text.RegularExpressions;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Samples.Tests;

/// <summary>
/// A user's first command builds a sample (or the file-based quick start, against the source here): it must print no warning (issue 22). The build runs as a child process on
/// the already built tree, so it costs an up-to-date check, yet NuGet replays its restore warnings (NU1603) and the
/// build's own targets (Source Link, the native-library fix) run again.
/// </summary>
[Collection(SampleOutputCollection.Name)]
public sealed partial class CleanBuildTests
{
    /// <summary>Every sample folder with a project, and the file-based quick start: a new sample is covered without an
    /// edit here.</summary>
    public static TheoryData<string> Samples() =>
        [.. Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "samples"))
            .Where(d => Directory.GetFiles(d, "*.csproj").Length > 0)
            .Select(d => Path.GetFileName(d))
            .Order(StringComparer.Ordinal)
            .Append("quickstart.cs")];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_builds_without_a_warning_line(string sample)
    {
        (int exitCode, string output) = DotNet.Run(RepositoryRoot.Path, "build", Path.Combine("samples", sample), "-nologo", "-tl:off");

        Assert.True(exitCode == 0, output);
        if (!sample.EndsWith(".cs", StringComparison.Ordinal))
        {
            Assert.Contains("0 Warning(s)", output, StringComparison.Ordinal); // a file-based build prints no summary
        }

        string[] warnings = [.. output.Split('\n').Where(line => WarningLine().IsMatch(line))];
        Assert.True(warnings.Length == 0, string.Join('\n', warnings));
    }

    // MSBuild's formats: "file(1,2): warning CS1234: …", "project : warning NU1603: …" and "targets(25,5): warning : …".
    [GeneratedRegex(@"\bwarning\s*[A-Z]*\d*\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex WarningLine();
}
