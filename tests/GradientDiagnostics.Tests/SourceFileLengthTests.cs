using System.Text.RegularExpressions;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Tests;

/// <summary>Files a person can hold in mind: no source file under <c>src/</c> is over 200 lines, and one over 150 says
/// why in a comment of its own that starts with <c>// Over 150 lines:</c>.</summary>
public sealed partial class SourceFileLengthTests
{
    private const int Limit = 200;
    private const int ExplainedFrom = 150;

    private static IEnumerable<(string Path, int Lines, bool Explained)> SourceFiles() =>
        Directory.EnumerateFiles(Path.Combine(RepositoryRoot.Path, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(p => (Lines: File.ReadAllLines(p), Path: Path.GetRelativePath(RepositoryRoot.Path, p)))
            .Select(f => (f.Path, f.Lines.Length, f.Lines.Any(l => Reason().IsMatch(l))));

    [Fact]
    public void No_source_file_is_over_200_lines()
    {
        string[] over = [.. SourceFiles().Where(f => f.Lines > Limit).Select(f => $"{f.Path}: {f.Lines}")];
        Assert.Empty(over);
    }

    [Fact]
    public void Source_files_over_150_lines_say_why()
    {
        string[] silent = [.. SourceFiles().Where(f => f.Lines > ExplainedFrom && !f.Explained).Select(f => $"{f.Path}: {f.Lines}")];
        Assert.Empty(silent);
    }

    [GeneratedRegex(@"^\s*// Over 150 lines: \S")]
    private static partial Regex Reason();
}
