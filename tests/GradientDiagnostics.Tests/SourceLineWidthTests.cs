using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Tests;

/// <summary>Code a person reads without scrolling: no line of a source file under <c>src/</c> is wider than the
/// <c>max_line_length</c> the repository's <c>.editorconfig</c> states (160 characters).</summary>
public sealed class SourceLineWidthTests
{
    private const int Limit = 160;

    private static bool IsBuildOutput(string path) =>
        path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        || path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    [Fact]
    public void No_source_line_is_wider_than_160_characters()
    {
        string[] over =
        [
            .. Directory.EnumerateFiles(Path.Combine(RepositoryRoot.Path, "src"), "*.cs", SearchOption.AllDirectories)
                .Where(p => !IsBuildOutput(p))
                .SelectMany(p => File.ReadAllLines(p).Select((line, i) => (Path: p, Number: i + 1, line.Length)))
                .Where(l => l.Length > Limit)
                .Select(l => $"{Path.GetRelativePath(RepositoryRoot.Path, l.Path)}:{l.Number} ({l.Length} characters)"),
        ];
        Assert.Empty(over);
    }

    [Fact]
    public void The_limit_is_the_width_the_editorconfig_states()
    {
        string[] config = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, ".editorconfig"));
        Assert.Contains($"max_line_length = {Limit}", config);
    }
}
