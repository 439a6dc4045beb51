using System.Text.RegularExpressions;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Tests;

/// <summary>The docs describe the real API: links resolve, every `Type.Member` naming a public type exists, and every
/// benchmark output kept in docs/benchmarks/ is one a doc links to.</summary>
public sealed partial class DocsTests
{
    public static TheoryData<string> Pages() =>
        [.. Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "docs"), "*.md").Append(Path.Combine(RepositoryRoot.Path, "README.md")).Select(p => Path.GetRelativePath(RepositoryRoot.Path, p))];

    [Theory]
    [MemberData(nameof(Pages))]
    public void Relative_links_point_to_existing_files(string page)
    {
        string path = Path.Combine(RepositoryRoot.Path, page);
        string[] broken = [.. Link().Matches(File.ReadAllText(path)).Select(m => m.Groups["target"].Value)
            .Where(t => !t.Contains("://", StringComparison.Ordinal) && !t.StartsWith('#'))
            .Select(t => t.Split('#')[0])
            .Where(t => !File.Exists(Path.Combine(Path.GetDirectoryName(path)!, t)) && !Directory.Exists(Path.Combine(Path.GetDirectoryName(path)!, t)))];

        Assert.Empty(broken);
    }

    [Fact]
    public void Every_benchmark_output_is_linked_from_a_doc()
    {
        string[] pages = [.. Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "docs"), "*.md").Append(Path.Combine(RepositoryRoot.Path, "README.md"))];
        var linked = new HashSet<string>(pages.SelectMany(page => Link().Matches(File.ReadAllText(page))
            .Select(m => m.Groups["target"].Value.Split('#')[0])
            .Where(t => t.Length > 0 && !t.Contains("://", StringComparison.Ordinal))
            .Select(t => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(t))))), StringComparer.Ordinal);
        string[] outputs = Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "docs", "benchmarks"), "*", SearchOption.AllDirectories);

        Assert.NotEmpty(outputs);
        Assert.Empty(outputs.Where(o => !linked.Contains(Path.GetFullPath(o))).Select(o => Path.GetRelativePath(RepositoryRoot.Path, o)));
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Code_references_to_public_types_name_members_that_exist(string page)
    {
        Dictionary<string, string> types = PublicTypes();
        string[] missing = [.. CodeReference().Matches(File.ReadAllText(Path.Combine(RepositoryRoot.Path, page)))
            .Select(m => (Type: m.Groups["type"].Value, Member: m.Groups["member"].Value))
            .Where(r => types.ContainsKey(r.Type) && !Regex.IsMatch(types[r.Type], $@"\b{Regex.Escape(r.Member)}\b"))
            .Select(r => $"{r.Type}.{r.Member}")
            .Distinct()];

        Assert.Empty(missing);
    }

    /// <summary>Each public type's block of the approved API files, by simple name.</summary>
    private static Dictionary<string, string> PublicTypes()
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "tests", "api"), "*.approved.txt"))
        {
            string api = File.ReadAllText(file);
            MatchCollection starts = TypeDeclaration().Matches(api);
            for (int i = 0; i < starts.Count; i++)
            {
                int end = i + 1 < starts.Count ? starts[i + 1].Index : api.Length;
                types[starts[i].Groups["name"].Value] = api[starts[i].Index..end];
            }
        }

        return types;
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"(?<![\w.])(?<type>[A-Z]\w+)\.(?<member>[A-Z]\w*)")]
    private static partial Regex CodeReference();

    [GeneratedRegex(@"^\s*public (?:(?:sealed|static|abstract|readonly|record|partial) )*(?:class|struct|enum|interface|record) (?<name>\w+)", RegexOptions.Multiline)]
    private static partial Regex TypeDeclaration();
}
